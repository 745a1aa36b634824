"""Docket's news index: ingest articles, store passages in SQLite + FAISS, search them.

Knows nothing about Discord. The bot and the CLI both use `DocketIndex` and `ingest`.
"""

from .errors import (
    ConfigError,
    DocketError,
    IndexNotReady,
    IngestBusy,
    QueryError,
    SnapshotError,
    SourceError,
)
from .results import Result, SearchResponse
from .settings import Settings, load_settings

__all__ = [
    "ConfigError",
    "DocketError",
    "IndexNotReady",
    "IngestBusy",
    "QueryError",
    "Result",
    "SearchResponse",
    "Settings",
    "SnapshotError",
    "SourceError",
    "load_settings",
]
