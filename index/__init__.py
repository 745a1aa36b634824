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
from .settings import ModelSettings, Settings, find_config, load_settings, read_toml

if TYPE_CHECKING:
    from .casebook import CaseBook
    from .cases import Case
    from .chart import render_png as render_chart
    from .cli_cases import format_cases as cases_text
    from .cli_cases import format_timeline as case_timeline_text
    from .cli_cases import not_found as case_not_found_text
    from .cli_trends import empty_text as trend_empty_text
    from .cli_trends import write_png as write_trend_png
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
    from .feeds.config import ConfiguredFeed, configured_feeds, configured_sources, merge_listing
    from .feeds.state import STATE_FILE as FEED_STATE_FILE
    from .feeds.state import FeedRow, FeedState
    from .feeds.watch import FeedPoller, PollReport
    from .fetch import Fetcher
    from .ingest import ingest as run_ingest
    from .ingest_report import IngestSummary, ProgressFn
    from .loaded import LoadedSnapshot, load_snapshot
    from .progress import Progress, unit_for
    from .service import DocketIndex
    from .snapshot import current_name as current_snapshot_name
    from .sources import sample_dir
    from .store import ArticleRow
    from .text import clean_question
    from .trends import DEFAULT_WEEKS, MAX_WEEKS, MIN_WEEKS, Trend, check_weeks, format_day

# Public name -> (submodule, name there). `run_ingest` is `index.ingest.ingest`: the
# name `ingest` is the submodule's.
_LAZY: dict[str, tuple[str, str]] = {
    "CaseBook": ("casebook", "CaseBook"),
    "Case": ("cases", "Case"),
    "render_chart": ("chart", "render_png"),
    "cases_text": ("cli_cases", "format_cases"),
    "case_timeline_text": ("cli_cases", "format_timeline"),
    "case_not_found_text": ("cli_cases", "not_found"),
    "trend_empty_text": ("cli_trends", "empty_text"),
    "write_trend_png": ("cli_trends", "write_png"),
    **{name: ("trends", name) for name in (
        "DEFAULT_WEEKS", "MAX_WEEKS", "MIN_WEEKS", "Trend", "check_weeks", "format_day")},
    **{name: ("display", name) for name in (
        "ELLIPSIS", "LEDE_CHARS", "QUOTE_CLOSE", "QUOTE_OPEN", "human_date", "human_dates",
        "quoted", "shorten", "shorten_to_fit")},
    **{name: ("embed", name) for name in ("Encoder", "export_pending", "model_path")},
    **{name: ("extract", name) for name in ("Feed", "parse_feed")},
    **{name: ("feeds.config", name) for name in (
        "ConfiguredFeed", "configured_feeds", "configured_sources", "merge_listing")},
    "FEED_STATE_FILE": ("feeds.state", "STATE_FILE"),
    "FeedRow": ("feeds.state", "FeedRow"),
    "FeedState": ("feeds.state", "FeedState"),
    "Fetcher": ("fetch", "Fetcher"),
    "IngestSummary": ("ingest_report", "IngestSummary"),
    "ProgressFn": ("ingest_report", "ProgressFn"),
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
    "FeedPoller": ("feeds.watch", "FeedPoller"),
    "PollReport": ("feeds.watch", "PollReport"),
}


def __getattr__(name: str) -> Any:
    try:
        module, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(f".{module}", __name__), attr)
    globals()[name] = value
    return value


__all__ = [  # noqa: RUF022 (grouped as above)
    "DEFAULT_WEEKS",
    "MAX_WEEKS",
    "MIN_WEEKS",
    "Case",
    "CaseBook",
    "Trend",
    "case_not_found_text",
    "case_timeline_text",
    "cases_text",
    "check_weeks",
    "format_day",
    "render_chart",
    "trend_empty_text",
    "write_trend_png",
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
    "read_toml",
    "run_ingest",
    "sample_dir",
    "shorten",
    "shorten_to_fit",
    "unit_for",
]
