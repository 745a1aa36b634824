"""Background reindexing: one run at a time, progress, and what happens when it fails."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest
from docket_harness import index_settings

from bot.reindex import Reindexer, ReindexRun, ReindexRunning, default_sources
from index.errors import IngestBusy
from index.ingest import IngestSummary
from index.sources import sample_dir

async_test = pytest.mark.asyncio(loop_scope="function")


class FakeIndex:
    """Stands in for DocketIndex: only reload_if_changed is used by the reindexer."""

    def __init__(self) -> None:
        self.reloads = 0
        self.last_reload_error: str | None = None

    async def reload_if_changed(self) -> bool:
        self.reloads += 1
        return True


def slow_ingest(gate: threading.Event, *, fail: Exception | None = None,
                reported: threading.Event | None = None) -> Any:
    async def ingest(sources: list[str], settings: Any, encoder: Any, *, full: bool,
                     progress: Any) -> IngestSummary:
        progress("embedding", 10, 40)
        if reported is not None:
            reported.set()
        # Block this (worker) thread: proves the bot's loop never waits on the ingest.
        await asyncio.to_thread(gate.wait, 10)
        if fail is not None:
            raise fail
        progress("embedding", 40, 40)
        return IngestSummary(new=3, passages_embedded=40, snapshot="new", published=True)
    return ingest


def reindexer(tmp_path: Path, ingest: Any) -> tuple[Reindexer, FakeIndex]:
    index = FakeIndex()
    r = Reindexer(index_settings(tmp_path), encoder=None, index=index,  # type: ignore[arg-type]
                  sources=lambda: ["a", "b"], ingest_fn=ingest)
    return r, index


@async_test
async def test_one_run_at_a_time_with_progress_and_a_summary(tmp_path: Path) -> None:
    gate, reported = threading.Event(), threading.Event()
    r, index = reindexer(tmp_path, slow_ingest(gate, reported=reported))
    run = r.start(full=True, by="alice", by_id=1)
    assert run.sources == 2 and run.running
    # The ingest (in its own thread) has reported its first progress.
    assert await asyncio.to_thread(reported.wait, 10)
    with pytest.raises(ReindexRunning) as busy:
        r.start(full=False, by="bob")
    assert busy.value.run is run and "alice" in str(busy.value)
    assert "full reindex started by alice: embedding · 10/40 passages (25%)" in run.line()
    gate.set()
    finished = await asyncio.wait_for(r.wait(), 10)
    assert finished is run and not run.running and run.reloaded and index.reloads == 1
    assert run.summary is not None and run.summary.new == 3
    assert run.line().startswith("full reindex finished in")
    r.start(full=False, by="bob")  # the lock is free again
    gate.set()
    await r.wait()


@async_test
async def test_a_busy_ingest_lock_is_reported_not_raised(tmp_path: Path) -> None:
    gate = threading.Event()
    gate.set()
    r, index = reindexer(tmp_path, slow_ingest(gate, fail=IngestBusy("held")))
    run = r.start(full=False, by="alice")
    await r.wait()
    assert run.error is not None and "another ingest" in run.error
    assert index.reloads == 0 and "failed" in run.line()


@async_test
async def test_an_unexpected_failure_is_logged_and_summarized(tmp_path: Path,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    gate = threading.Event()
    gate.set()
    r, _ = reindexer(tmp_path, slow_ingest(gate, fail=KeyError("boom")))
    run = r.start(full=False, by="alice")
    await r.wait()
    assert run.error == "unexpected KeyError; see the log"
    assert "reindex failed" in caplog.text and "KeyError" in caplog.text


def test_eta_from_the_rate_so_far() -> None:
    run = ReindexRun(started_by="a", started_by_id=None, full=False, sources=1)
    run.progress("embedding", 0, 100)
    run.stage_started -= 10
    run.done = 25
    assert run.eta() == pytest.approx(30, abs=0.5)
    assert "about 30s left" in run.line()


def test_default_sources_fall_back_to_the_sample(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    feeds = tmp_path / "feeds.toml"
    feeds.write_text("", encoding="utf-8")  # no feeds configured
    monkeypatch.setenv("DOCKET_FEEDS", str(feeds))
    assert default_sources(index_settings(tmp_path)) == [str(sample_dir())]
    assert default_sources(index_settings(tmp_path, sources=("x.md",))) == ["x.md"]
