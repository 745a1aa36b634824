"""Progress of long work (an ingest) for people watching a terminal and for logs.

An ingest reports `(stage, done, total)` (see `index.ingest_report.ProgressFn`). `Progress`
shows that on a stream:

- on a terminal, one line redrawn in place (`embedding [████░░░░] 512/1,024 passages
  (50%) · 48/s · about 11s left`); log records and other writes to the stream are put
  on their own lines above it, never glued onto it;
- elsewhere (cron, a Procfile, a log file), a plain line every `interval_s` while the
  work lasts, and nothing at all for work shorter than that.

A stage without counts (`writing index`) shows how long it has been running. A clock
thread keeps both forms going while a single step (a model export, one large encode
call) reports nothing.
"""

from __future__ import annotations

import logging
import shutil
import sys
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, TextIO

# What each stage counts.
UNITS = {"reading sources": "sources", "embedding": "passages"}
BAR_WIDTH = 12


def unit_for(stage: str) -> str:
    return UNITS.get(stage, "items")


def duration(seconds: float) -> str:
    """`9s`, `4 min`, `1 h 05 min`."""
    seconds = max(0.0, seconds)
    if seconds < 90:
        return f"{seconds:.0f}s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    hours, minutes = divmod(round(seconds / 60), 60)
    return f"{hours} h {minutes:02d} min"


def describe(stage: str, done: int, total: int, elapsed: float) -> str:
    """One line about a stage: counts, share, rate and time left when it has counts."""
    if not total:
        return f"{stage}… {duration(elapsed)}"
    parts = [f"{stage}: {done:,}/{total:,} {unit_for(stage)} ({100 * done / total:.0f}%)"]
    if done and elapsed > 0:
        parts.append(f"{done / elapsed:,.0f}/s")
        left = elapsed / done * (total - done)
        if left >= 1:
            parts.append(f"about {duration(left)} left")
    return " · ".join(parts)


class _GuardedStream:
    """Stands in for the progress stream while a bar is shown: whatever is written goes on
    a clean line, and the bar is drawn again below it."""

    def __init__(self, progress: Progress, stream: TextIO) -> None:
        self._progress = progress
        self._stream = stream

    def write(self, text: str) -> int:
        return self._progress._write_above(text)

    def flush(self) -> None:
        self._stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


class Progress:
    """Shows an ingest's progress on `stream` (stderr by default); `update` is a ProgressFn.

    Use as a context manager, or call `close()`; `live` (a redrawn line) defaults to
    whether the stream is a terminal.
    """

    def __init__(self, stream: TextIO | None = None, *, live: bool | None = None,
                 interval_s: float = 10.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream if stream is not None else sys.stderr
        if live is None:
            isatty = getattr(self.stream, "isatty", None)
            live = bool(isatty and isatty())
        self.live = live
        self.interval_s = interval_s
        self._clock = clock
        self._lock = threading.RLock()
        self._stage = ""
        self._done = self._total = 0
        self._stage_started = self._last_line = self._last_update = clock()
        self._last_draw = 0.0
        self._drawn = False  # a bar is on screen (live mode)
        self._at_line_start = True
        self._closed = threading.Event()
        self._restore: list[Callable[[], None]] = []
        self._guard_output()
        self._clock_thread = threading.Thread(target=self._run_clock, name="docket-progress",
                                              daemon=True)
        self._clock_thread.start()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # -- reporting ---------------------------------------------------------------------

    def update(self, stage: str, done: int, total: int) -> None:
        with self._lock:
            if self._closed.is_set():
                return
            now = self._clock()
            if stage != self._stage:
                self._stage, self._stage_started = stage, now
            self._done, self._total = done, total
            self._last_update = now
            if self.live and (now - self._last_draw >= 0.1 or done == total):
                self._draw(now)
            elif not self.live:
                self._line_if_due(now)

    def line(self) -> str:
        """The current state in words (empty before the first update)."""
        with self._lock:
            if not self._stage:
                return ""
            return describe(self._stage, self._done, self._total,
                            self._clock() - self._stage_started)

    def close(self) -> None:
        """Stop the clock, take the bar off the screen, put the stream back."""
        with self._lock:
            if self._closed.is_set():
                return
            self._closed.set()
            self._erase()
            while self._restore:
                self._restore.pop()()
        if self._clock_thread is not threading.current_thread():
            self._clock_thread.join(timeout=2)

    # -- drawing -----------------------------------------------------------------------

    def _run_clock(self) -> None:
        tick = 0.5 if self.live else min(1.0, self.interval_s)
        while not self._closed.wait(tick):
            with self._lock:
                if self._closed.is_set() or not self._stage:
                    continue
                now = self._clock()
                if self.live:
                    self._draw(now)  # the elapsed time and rate move on
                elif now - self._last_update >= self.interval_s:
                    self._line_if_due(now)  # a step that reports nothing still gets its lines

    def _line_if_due(self, now: float) -> None:
        if self._stage and now - self._last_line >= self.interval_s:
            self._last_line = now
            self._raw_write(self.line() + "\n")

    def _draw(self, now: float) -> None:
        text = self.line()
        if self._total:
            filled = round(BAR_WIDTH * min(self._done, self._total) / self._total)
            bar = "█" * filled + "░" * (BAR_WIDTH - filled)
            stage, _, rest = text.partition(": ")
            text = f"{stage} [{bar}] {rest}"
        width = shutil.get_terminal_size((100, 20)).columns - 1
        if len(text) > width > 0:
            text = text[:max(0, width - 1)] + "…"
        self._raw_write("\r\x1b[K" + text)
        self._drawn = True
        self._last_draw = now

    def _erase(self) -> None:
        if self._drawn:
            self._raw_write("\r\x1b[K")
            self._drawn = False

    def _raw_write(self, text: str) -> None:
        try:
            self._stream_write(text)
            self.stream.flush()
        except (OSError, ValueError):  # a closed or broken stream: stop showing progress
            self._closed.set()

    def _write_above(self, text: str) -> int:
        """Another writer's text (a log record, a warning), on its own line above the bar."""
        with self._lock:
            if self._drawn:
                self._raw_write("\r\x1b[K")
                self._drawn = False
            written = self._stream_write(text)
            if text:
                self._at_line_start = text.endswith("\n")
            if self._at_line_start and self._stage and not self._closed.is_set():
                self._draw(self._clock())
            return written

    # -- owning the stream while the bar is shown -------------------------------------

    def _stream_write(self, text: str) -> int:
        return self._real_stream.write(text)

    def _guard_output(self) -> None:
        self._real_stream = self.stream
        if not self.live:
            return
        guarded: Any = _GuardedStream(self, self.stream)
        # Log handlers writing to the same stream (basicConfig's, the bot's) ...
        for logger in _loggers():
            for handler in logger.handlers:
                if isinstance(handler, logging.StreamHandler) and handler.stream is self.stream:
                    handler.setStream(guarded)
                    self._restore.append(_put_back(handler, self.stream))
        # ... and print(..., file=sys.stderr), warnings and the like.
        if sys.stderr is self.stream:
            sys.stderr = guarded
            self._restore.append(lambda: setattr(sys, "stderr", self.stream))


def _put_back(handler: logging.StreamHandler[Any], stream: TextIO) -> Callable[[], None]:
    return lambda: handler.setStream(stream)


def _loggers() -> list[logging.Logger]:
    manager = logging.Logger.manager
    found = [logging.getLogger()]
    found.extend(lg for lg in manager.loggerDict.values() if isinstance(lg, logging.Logger))
    return found
