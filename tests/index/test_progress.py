"""Progress of an ingest as people see it: counts of real work, a bar that log lines never
glue onto (on a real pseudo-terminal), a line at a steady interval when the output is a
log, and an embedding rate that leaves the model's loading aside."""

from __future__ import annotations

import fcntl
import io
import logging
import os
import pty
import re
import shutil
import struct
import subprocess
import sys
import termios
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import make_settings, wait_for

from index import cli
from index.embed import Encoder
from index.ingest import ingest
from index.progress import Progress
from index.sources import sample_dir

SUBSET = 6  # sample articles ingested by the tests that need a real run


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """The first few sample articles, copied."""
    target = tmp_path / "corpus"
    target.mkdir()
    for path in sorted(sample_dir().iterdir())[:SUBSET]:
        shutil.copy(path, target / path.name)
    return target


class Terminal:
    """A real pseudo-terminal: `stream` is its writing end (isatty() is true), and what
    reaches the screen is read back and rendered (carriage returns, erase-line)."""

    def __init__(self, columns: int = 120) -> None:
        self._master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, columns, 0, 0))
        attrs = termios.tcgetattr(slave)
        attrs[1] &= ~termios.ONLCR  # show "\n" as written, not as "\r\n"
        termios.tcsetattr(slave, termios.TCSANOW, attrs)
        self.stream = os.fdopen(slave, "w", encoding="utf-8", buffering=1)
        self._chunks: list[bytes] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self._master, 65536)
            except OSError:
                return
            if not data:
                return
            self._chunks.append(data)

    def close(self) -> str:
        """Everything written, once the writing end is closed."""
        self.stream.close()
        self._reader.join(timeout=10)
        os.close(self._master)
        return b"".join(self._chunks).decode("utf-8", "replace")


def screen(raw: str) -> list[str]:
    """The lines a terminal shows for `raw`: \\r returns to the line start, ESC[K erases to
    its end, anything else overwrites."""
    lines: list[str] = []
    line: list[str] = []
    col = i = 0
    while i < len(raw):
        if raw.startswith("\x1b[K", i):
            del line[col:]
            i += 3
            continue
        ch = raw[i]
        if ch == "\r":
            col = 0
        elif ch == "\n":
            lines.append("".join(line))
            line, col = [], 0
        else:
            line[col:col + 1] = [ch]
            col += 1
        i += 1
    if line:
        lines.append("".join(line))
    return lines


@pytest.fixture
def terminal() -> Iterator[Terminal]:
    """A pseudo-terminal with a log handler on it, as `basicConfig` makes one on stderr."""
    term = Terminal()
    handler = logging.StreamHandler(term.stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("docket.progress-test")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield term
    finally:
        logger.removeHandler(handler)


@pytest.mark.asyncio
async def test_every_stage_counts_real_work(corpus: Path, tmp_path: Path,
                                            encoder: Encoder) -> None:
    calls: list[tuple[str, int, int]] = []
    summary = await ingest([str(corpus)], make_settings(tmp_path / "data"), encoder,
                           progress=lambda stage, done, total: calls.append((stage, done, total)))
    assert summary.new == SUBSET
    reading = [(d, t) for s, d, t in calls if s == "reading sources"]
    embedding = [(d, t) for s, d, t in calls if s == "embedding"]
    assert reading[-1] == (SUBSET, SUBSET)  # every file, counted as read
    assert [d for d, _ in reading] == sorted(d for d, _ in reading)
    assert embedding[-1] == (summary.passages_embedded, summary.passages_embedded)
    assert {s for s, d, t in calls if not t} <= {"writing index"}  # no other count-less stage


@pytest.mark.asyncio
async def test_log_lines_never_glue_onto_the_bar(corpus: Path, tmp_path: Path, encoder: Encoder,
                                                 terminal: Terminal,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stderr", terminal.stream)  # here: pytest resets it between phases
    log = logging.getLogger("docket.progress-test")
    bar = cli._ProgressBar()  # what `python -m index ingest` shows on a terminal

    def progress(stage: str, done: int, total: int) -> None:
        bar.update(stage, done, total)
        log.warning("noted during %s", stage)
        print("a line printed during", stage, file=sys.stderr)

    summary = await ingest([str(corpus)], make_settings(tmp_path / "data"), encoder,
                           progress=progress)
    bar.close()
    print(summary.line(), file=sys.stderr)
    raw = terminal.close()
    shown = screen(raw)
    notes = [line for line in shown if "noted during" in line or "printed during" in line]
    assert len(notes) >= 6, shown
    for line in notes:  # each on its own line, from its first column
        assert re.fullmatch(r"WARNING docket\.progress-test: noted during [a-z ()]+"
                            r"|a line printed during [a-z ()]+", line), shown
    assert shown[-1] == summary.line()  # and no bar left over after it
    assert "reading sources [" in raw and f"{SUBSET}/{SUBSET} sources" in raw  # a bar was drawn
    assert not any("[" in line and "█" in line for line in shown), shown


class Clock:
    """Time that passes only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_log_gets_a_line_at_a_steady_interval_and_short_work_gets_none() -> None:
    clock, out = Clock(), io.StringIO()
    with Progress(out, live=False, interval_s=30, clock=clock) as progress:
        progress.update("reading sources", 10, 42)
        clock.now += 20
        progress.update("embedding", 0, 1000)
        progress.update("embedding", 300, 1000)
        assert out.getvalue() == ""  # under 30 s so far: nothing
        clock.now += 15
        progress.update("embedding", 600, 1000)
        assert out.getvalue() == ("embedding: 600/1,000 passages (60%) · 40/s · "
                                  "about 10s left\n")
        # A step that reports nothing for a while (one large encode call) still gets its
        # line when the interval has passed, from the progress clock.
        clock.now += 31
        assert wait_for(lambda: out.getvalue().count("\n") == 2, timeout=30, interval=0.05)
        assert out.getvalue().splitlines()[1].startswith("embedding: 600/1,000 passages (60%)")
        progress.update("writing index", 0, 0)
        clock.now += 40
        progress.update("writing index", 0, 0)
    assert out.getvalue().splitlines()[-1] == "writing index… 40s"
    assert "\r" not in out.getvalue() and "\x1b" not in out.getvalue()


@pytest.mark.asyncio
async def test_the_rate_leaves_loading_the_model_aside(corpus: Path, tmp_path: Path) -> None:
    loaded: list[Encoder] = []

    def load() -> Encoder:  # the model is loaded during the run, as `python -m index` does
        loaded.append(Encoder())
        return loaded[-1]

    summary = await ingest([str(corpus)], make_settings(tmp_path / "data"), load)
    assert loaded and summary.model_seconds > 0 and not summary.model_prepared
    working = summary.seconds - summary.model_seconds
    assert f"({summary.passages_embedded / working:.0f}/s)" in summary.line()
    assert summary.rate == pytest.approx(summary.passages_embedded / working)


def test_ingest_into_a_log_shows_no_bar(
        run_cli: Callable[..., subprocess.CompletedProcess[str]], tmp_path: Path) -> None:
    proc = run_cli(tmp_path / "data", "ingest", "--sample")
    err = proc.stderr
    assert proc.returncode == 0, err
    assert "\r" not in err and "\x1b" not in err and "0it" not in err
