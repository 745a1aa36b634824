"""Domain exceptions raised by the index; callers map them to user-facing text.

DocketError
 +-- ConfigError        bad or missing configuration (exit code 2)
 +-- IndexNotReady      no published snapshot yet
 +-- SnapshotError      a snapshot that cannot be trusted (checksum, manifest, model)
 +-- QueryError         a question that cannot be searched (empty, only symbols)
 +-- IngestBusy         another ingest holds the lock
 +-- SourceError        one source failed (recorded, the run goes on)
"""

from __future__ import annotations


class DocketError(Exception):
    """Base class for errors the index raises on purpose."""


class ConfigError(DocketError):
    """The configuration is missing a value or has a wrong one."""


class IndexNotReady(DocketError):
    """There is no published snapshot to search yet."""


class SnapshotError(DocketError):
    """A snapshot's files do not match its manifest or the configured model."""


class QueryError(DocketError):
    """The question cannot be searched; the message says why, for the user."""


class IngestBusy(DocketError):
    """Another ingest is running."""


class SourceError(DocketError):
    """A source could not be read; `reason` is a short code (timeout, http_404, ...)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
