"""Background reindexing, one run at a time, with progress for whoever asks.

The ingest runs in a worker thread with its own event loop, so nothing it does
(parsing, chunking, SQLite writes, the flock) can stall the bot's loop and its
gateway heartbeats; the index keeps answering from the live snapshot until the
ingest publishes a new one, and then `DocketIndex.reload_if_changed` swaps to it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from index import (
    DocketError,
    DocketIndex,
    Encoder,
    IngestBusy,
    IngestSummary,
    ProgressFn,
    Settings,
    configured_sources,
    run_ingest,
    sample_dir,
    unit_for,
)

from .threads import in_daemon_thread

log = logging.getLogger(__name__)

IngestFn = Callable[..., Awaitable[IngestSummary]]


class ReindexRunning(DocketError):
    """A reindex is already running; `run` says who started it and how far it is."""

    def __init__(self, run: ReindexRun) -> None:
        super().__init__(f"a reindex started by {run.started_by} is running")
        self.run = run


@dataclass
class ReindexRun:
    """One reindex: who, what, and progress as the ingest reports it (stage, done/total)."""

    started_by: str
    started_by_id: int | None
    full: bool
    sources: int
    started: float = field(default_factory=time.monotonic)
    stage: str = "starting"
    done: int = 0
    total: int = 0
    stage_started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    summary: IngestSummary | None = None
    error: str | None = None
    reloaded: bool = False
    # Set when the run has finished, successfully or not.
    finished_event: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    def progress(self, stage: str, done: int, total: int) -> None:
        """The ingest's progress callback (called from the worker thread)."""
        if stage != self.stage:
            self.stage_started = time.monotonic()
        self.stage, self.done, self.total = stage, done, total

    @property
    def running(self) -> bool:
        return self.finished is None

    def elapsed(self, now: float | None = None) -> float:
        end = self.finished if self.finished is not None else (now or time.monotonic())
        return end - self.started

    def eta(self, now: float | None = None) -> float | None:
        """Seconds left in the current stage, extrapolated from its rate so far."""
        if not self.total or not self.done or self.done >= self.total:
            return None
        spent = (now or time.monotonic()) - self.stage_started
        return spent / self.done * (self.total - self.done)

    def line(self, now: float | None = None) -> str:
        """One line for a progress message: stage, done/total, elapsed, ETA."""
        kind = "full reindex" if self.full else "reindex"
        if not self.running:
            if self.error:
                return f"{kind} failed after {self.elapsed():.0f}s: {self.error}"
            return f"{kind} finished in {self.elapsed():.0f}s"
        parts = [f"{kind} started by {self.started_by}: {self.stage}"]
        if self.total:
            pct = 100 * self.done / self.total
            parts.append(f"{self.done:,}/{self.total:,} {unit_for(self.stage)} ({pct:.0f}%)")
        parts.append(f"{self.elapsed(now):.0f}s elapsed")
        eta = self.eta(now)
        if eta is not None:
            parts.append(f"about {eta:.0f}s left")
        return " · ".join(parts)


class Reindexer:
    """Starts ingest runs in the background, one at a time; the live one is `current`."""

    def __init__(self, settings: Settings, encoder: Encoder, index: DocketIndex, *,
                 sources: Callable[[], Sequence[str]] | None = None,
                 ingest_fn: IngestFn = run_ingest) -> None:
        self.settings = settings
        self.encoder = encoder
        self.index = index
        self._sources = sources or (lambda: default_sources(settings))
        self.ingest_fn = ingest_fn  # replaceable: tests hold a run open with it
        self.current: ReindexRun | None = None
        self.last: ReindexRun | None = None
        self._task: asyncio.Task[ReindexRun] | None = None

    def start(self, *, full: bool, by: str, by_id: int | None = None) -> ReindexRun:
        """Begin a run; ReindexRunning if one is already going."""
        if self.current is not None and self.current.running:
            raise ReindexRunning(self.current)
        sources = list(self._sources())
        run = ReindexRun(started_by=by, started_by_id=by_id, full=full, sources=len(sources))
        self.current = run
        self._task = asyncio.create_task(self._run(run, sources), name="docket-reindex")
        log.info("reindex (full=%s, %d sources) started by %s", full, len(sources), by)
        return run

    async def wait(self) -> ReindexRun | None:
        """Wait for the running reindex, if any, and return it."""
        if self._task is not None:
            return await asyncio.shield(self._task)
        return self.last

    async def _run(self, run: ReindexRun, sources: list[str]) -> ReindexRun:
        progress: ProgressFn = run.progress
        try:
            summary = await in_daemon_thread(
                lambda: self.ingest_fn(sources, self.settings, self.encoder, full=run.full,
                                     progress=progress),
                name="docket-reindex")
            run.summary = summary
            run.stage = "loading the new snapshot"
            run.reloaded = await self.index.reload_if_changed()
            if summary.published and not run.reloaded and self.index.last_reload_error:
                run.error = f"the new snapshot was refused: {self.index.last_reload_error}"
        except asyncio.CancelledError:
            run.error = "stopped: the bot is shutting down"
            raise
        except IngestBusy:
            run.error = "another ingest (maybe a scheduled one) is running; try again later"
        except DocketError as exc:
            run.error = str(exc)
            log.warning("reindex failed: %s", exc)
        except Exception as exc:
            run.error = f"unexpected {type(exc).__name__}; see the log"
            log.exception("reindex failed")
        finally:
            run.finished = time.monotonic()
            self.last = run
            run.finished_event.set()
        if run.summary is not None:
            log.info("reindex finished: %s", run.summary.line())
        return run

    async def close(self) -> None:
        """Stop a running reindex and wait for its thread to close what it opened."""
        task = self._task
        if task is None or task.done():
            return
        # Abandoning a build is safe: it was never published, the next ingest removes
        # what is left of it, and the live snapshot is never touched.
        log.warning("shutting down during a reindex started by %s: the unfinished build is "
                    "dropped, the live snapshot stays", self.current.started_by
                    if self.current is not None else "?")
        task.cancel()
        await asyncio.wait({task})


def default_sources(settings: Settings) -> list[str]:
    """What /reindex reads: the configured sources, or the bundled sample when there are none."""
    return configured_sources(settings) or [str(sample_dir())]
