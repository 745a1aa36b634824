"""Docket's news index: ingest articles, store passages in SQLite + FAISS, search them.

Knows nothing about Discord. This module is the index's public surface: the bot
imports only from here (tests/index/test_boundaries.py checks it).

The errors, results and settings are imported at once; everything else is imported
on first use (`python -m index stats` need not load the ingest pipeline's libraries).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .errors import (
    ConfigError,
    DocketError,
    IndexNotReady,
    IngestBusy,
    QueryError,
    SnapshotError,
    SourceError,
)
from .results import IndexStats, Result, SearchResponse
from .settings import ModelSettings, Settings, find_config, load_settings

if TYPE_CHECKING:
    from .display import (
        ELLIPSIS,
        LEDE_CHARS,
        QUOTE_CLOSE,
        QUOTE_OPEN,
        human_date,
        human_dates,
        quoted,
        shorten,
        shorten_to_fit,
    )
    from .embed import Encoder, export_pending, model_path
    from .extract import Feed, parse_feed
    from .feedconfig import ConfiguredFeed, configured_feeds, configured_sources, merge_listing
    from .feedstate import STATE_FILE as FEED_STATE_FILE
    from .feedstate import FeedRow, FeedState
    from .fetch import Fetcher
    from .ingest import IngestSummary, ProgressFn
    from .ingest import ingest as run_ingest
    from .loaded import LoadedSnapshot, load_snapshot
    from .progress import Progress, unit_for
    from .service import DocketIndex
    from .snapshot import current_name as current_snapshot_name
    from .sources import sample_dir
    from .store import ArticleRow
    from .text import clean_question
    from .watch import FeedPoller, PollReport

# Public name -> (submodule, name there). `run_ingest` is `index.ingest.ingest`: the
# name `ingest` is the submodule's.
_LAZY: dict[str, tuple[str, str]] = {
    **{name: ("display", name) for name in (
        "ELLIPSIS", "LEDE_CHARS", "QUOTE_CLOSE", "QUOTE_OPEN", "human_date", "human_dates",
        "quoted", "shorten", "shorten_to_fit")},
    **{name: ("embed", name) for name in ("Encoder", "export_pending", "model_path")},
    **{name: ("extract", name) for name in ("Feed", "parse_feed")},
    **{name: ("feedconfig", name) for name in (
        "ConfiguredFeed", "configured_feeds", "configured_sources", "merge_listing")},
    "FEED_STATE_FILE": ("feedstate", "STATE_FILE"),
    "FeedRow": ("feedstate", "FeedRow"),
    "FeedState": ("feedstate", "FeedState"),
    "Fetcher": ("fetch", "Fetcher"),
    "IngestSummary": ("ingest", "IngestSummary"),
    "ProgressFn": ("ingest", "ProgressFn"),
    "run_ingest": ("ingest", "ingest"),
    "LoadedSnapshot": ("loaded", "LoadedSnapshot"),
    "load_snapshot": ("loaded", "load_snapshot"),
    "Progress": ("progress", "Progress"),
    "unit_for": ("progress", "unit_for"),
    "DocketIndex": ("service", "DocketIndex"),
    "current_snapshot_name": ("snapshot", "current_name"),
    "sample_dir": ("sources", "sample_dir"),
    "ArticleRow": ("store", "ArticleRow"),
    "clean_question": ("text", "clean_question"),
    "FeedPoller": ("watch", "FeedPoller"),
    "PollReport": ("watch", "PollReport"),
}


def __getattr__(name: str) -> Any:
    try:
        module, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(f".{module}", __name__), attr)
    globals()[name] = value
    return value


__all__ = [
    "ELLIPSIS",
    "FEED_STATE_FILE",
    "LEDE_CHARS",
    "QUOTE_CLOSE",
    "QUOTE_OPEN",
    "ArticleRow",
    "ConfigError",
    "ConfiguredFeed",
    "DocketError",
    "DocketIndex",
    "Encoder",
    "Feed",
    "FeedPoller",
    "FeedRow",
    "FeedState",
    "Fetcher",
    "IndexNotReady",
    "IndexStats",
    "IngestBusy",
    "IngestSummary",
    "LoadedSnapshot",
    "ModelSettings",
    "PollReport",
    "Progress",
    "ProgressFn",
    "QueryError",
    "Result",
    "SearchResponse",
    "Settings",
    "SnapshotError",
    "SourceError",
    "clean_question",
    "configured_feeds",
    "configured_sources",
    "current_snapshot_name",
    "export_pending",
    "find_config",
    "human_date",
    "human_dates",
    "load_settings",
    "load_snapshot",
    "merge_listing",
    "model_path",
    "parse_feed",
    "quoted",
    "run_ingest",
    "sample_dir",
    "shorten",
    "shorten_to_fit",
    "unit_for",
]
