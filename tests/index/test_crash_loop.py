"""Crash safety under a loop of SIGKILLs.

One ingest workload (Markdown files, a full-text feed, and a summary-only feed whose pages
are fetched from a slow-ish server on 127.0.0.1) is first run once, uninterrupted, in a
scratch copy to measure it. Then the same workload is started again and again on one data
directory and killed with SIGKILL: at evenly spaced fractions of the measured run, and at
moments picked by events (a page fetch in flight, the model loading, embedding, an open
SQLite transaction, the FAISS file written, the manifest written, CURRENT.tmp written, just
after publishing). The kills stack up: nothing is cleaned between them but by the next run.

After every kill the published snapshot passes `verify`, search answers from it, and the
ingest lock can be taken at once; at the end an uninterrupted ingest completes, publishes and
leaves no temporary file behind. Each kill's phase is read from markers that the ingest
process writes as it goes (see crashkit.HELPER), and from the test server's count of requests in flight.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from crashkit import (
    HELD,
    JAPAN_QUESTION,
    JAPAN_URL,
    REPO,
    child_env,
    events,
    last_step,
    marked_env,
    read_marks,
    sample_sentences,
    write_helper,
)

from index import snapshot
from index.service import DocketIndex
from index.verify import verify

pytestmark = pytest.mark.slow

MARKDOWN_ARTICLES = 40
FULL_TEXT_ITEMS = 4   # articles carried whole by the first feed
LINKED_PAGES = 12     # summary-only items of the second feed: each page is fetched
PAGE_DELAY_S = 0.12   # the server thinks this long before each page
BASE_ARTICLES = 3     # small_base: the Japan, Getty and Bartz sample articles
ALL_ARTICLES = BASE_ARTICLES + MARKDOWN_ARTICLES + FULL_TEXT_ITEMS + LINKED_PAGES
FRACTIONS = [round(0.03 + i * (0.92 / 15), 3) for i in range(16)]  # 0.03 .. 0.95 of a run
CLI_VERIFY_EVERY = 4  # the CLI `verify` runs after every 4th kill (and after the last)

# The last marker before a kill -> the step the kill interrupted.
PHASE_AFTER = {
    None: "starting up", "started": "starting up", "building": "starting up",
    "build": "copying the base snapshot",
    "collect": "reading local files", "collected": "chunking",
    "fetch": "fetch", "fetched": "fetch",
    "model": "loading the model", "model export": "loading the model",
    "model export ready": "loading the model", "model loaded": "loading the model",
    "embed": "embedding",
    "embedded": "SQLite writes", "sqlite transaction open": "SQLite writes",
    "faiss": "FAISS write", "faiss written": "FAISS write",
    "manifest": "manifest", "manifest written": "publish",
    "publish": "publish", "current.tmp written": "publish",
    "published": "after publish",
}
REQUIRED_PHASES = {"fetch", "embedding", "SQLite writes", "FAISS write", "publish"}


# --------------------------------------------------------------------------- the workload

@dataclass
class Workload:
    """Sources whose content changes with a generation number, so every run has work to do."""

    corpus: Path
    sentences: list[str]
    server: Any
    generation: int = 0
    in_flight: int = 0
    pages_started: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def sources(self) -> list[str]:
        return [str(self.corpus), self.server.url("/crash/full.xml"),
                self.server.url("/crash/links.xml")]

    def body(self, key: str, n: int) -> list[str]:
        return random.Random(key).sample(self.sentences, n)

    def set_generation(self, generation: int, writers: Any) -> None:
        """Rewrite the Markdown files for this generation; the server follows suit."""
        self.generation = generation
        for n in range(MARKDOWN_ARTICLES):
            writers.markdown(self.corpus / f"article-{n:02d}.md",
                             title=f"Crash loop article {n} (revision {generation})",
                             url=f"https://crashloop.example.org/articles/{n}",
                             body="\n".join(self.body(f"md-{n}", 6)),
                             published=f"2022-{1 + n % 12:02d}-{1 + n % 28:02d}",
                             outlet="Crash Times")

    def install(self, writers: Any) -> None:
        def full_feed(h: Any) -> None:
            items = [{"title": f"Wire brief {n} (revision {self.generation})",
                      "link": f"https://crashwire.example.org/brief-{n}",
                      "date": "Mon, 03 Mar 2025 10:00:00 GMT",
                      "body": "\n".join(self.body(f"brief-{n}", 6))} for n in range(FULL_TEXT_ITEMS)]
            _send(h, writers.rss(items, title="Crash Wire"), "application/rss+xml")

        def links_feed(h: Any) -> None:
            items = [{"title": f"Wire story {n} (revision {self.generation})",
                      "link": self.server.url(f"/crash/story-{n}"),
                      "date": "Tue, 04 Mar 2025 10:00:00 GMT",
                      "body": self.body(f"story-{n}", 1)[0]} for n in range(LINKED_PAGES)]
            _send(h, writers.rss(items, title="Crash Wire Links", full_text=False),
                  "application/rss+xml")

        def page(n: int) -> Callable[[Any], None]:
            def serve(h: Any) -> None:
                with self.lock:
                    self.in_flight += 1
                    self.pages_started += 1
                try:
                    self.server.stopping.wait(PAGE_DELAY_S)
                    # The page's canonical URL differs from the feed's link, as with tracking
                    # links: the page is fetched on every run, whatever was published before.
                    _send(h, writers.html(title=f"Wire story {n} (revision {self.generation})",
                                          paragraphs=self.body(f"story-{n}", 8),
                                          canonical=f"https://crashwire.example.org/story-{n}",
                                          site_name="Crash Wire"), "text/html; charset=utf-8")
                finally:
                    with self.lock:
                        self.in_flight -= 1
            return serve

        self.server.routes["/crash/full.xml"] = full_feed
        self.server.routes["/crash/links.xml"] = links_feed
        for n in range(LINKED_PAGES):
            self.server.routes[f"/crash/story-{n}"] = page(n)


def _send(h: Any, text: str, content_type: str) -> None:
    data = text.encode("utf-8")
    h.send_response(200)
    h.send_header("Content-Type", content_type)
    h.send_header("Content-Length", str(len(data)))
    h.end_headers()
    h.wfile.write(data)


# --------------------------------------------------------------------------- processes

def _cli(data: Path, tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The real `python -m index` (no helper, no markers)."""
    return subprocess.run([sys.executable, "-m", "index", "--data-dir", str(data), *args],
                          cwd=REPO, env=child_env(tmp), capture_output=True, text=True,
                          timeout=240, check=False)


def _phase(found: list[str]) -> str:
    return PHASE_AFTER[last_step(found)]


Condition = Callable[[list[str], Workload, int], bool]


def _held(found: list[str], workload: Workload, pages_before: int) -> bool:
    return HELD in found


@dataclass(frozen=True)
class Moment:
    """An event-triggered kill (fraction kills need none of this): the ingest holds still
    after marker `hold` (if any) until it is killed; the kill comes once `ready` holds of
    (markers, workload, pages started before this run); it must land in `phase`."""

    name: str
    hold: str
    phase: str
    ready: Condition = _held


MOMENTS: list[Moment] = [
    Moment("build directory created", "build", "copying the base snapshot"),
    Moment("a page fetch in flight", "", "fetch", lambda ev, w, p0: (
        w.in_flight > 0 and w.pages_started - p0 >= LINKED_PAGES // 2)),
    Moment("loading the model", "model", "loading the model"),
    Moment("embedding", "embed", "embedding"),
    Moment("SQLite transaction open", "sqlite transaction open", "SQLite writes"),
    Moment("FAISS file written, no manifest yet", "faiss written", "FAISS write"),
    Moment("manifest written, not yet published", "manifest written", "publish"),
    Moment("snapshot moved into place, CURRENT not yet switched", "current.tmp written", "publish"),
    Moment("published, not yet pruned or exited", "published", "after publish"),
]


@dataclass
class Kill:
    """One killed (or, if it outran the kill, finished) ingest and what was checked after it."""

    n: int
    trigger: str
    killed: bool
    expected_phase: str | None
    after_s: float
    phase: str = ""
    started_building: bool = False  # it got the lock and cleaned up after the kill before it
    fetch_in_flight: int = 0
    debris: list[str] = field(default_factory=list)
    live_before: str | None = None
    live_after: str | None = None
    verify_error: str | None = None
    cli_verify: tuple[int, str] | None = None
    top_url: str | None = None
    search_error: str | None = None
    lock_error: str | None = None


@dataclass
class LoopReport:
    measured_s: float
    timeline: dict[str, float]
    kills: list[Kill]
    final: dict[str, Any]


def _run_and_kill(data: Path, workload: Workload, marks: Path, tmp: Path, *,
                  at_s: float | None = None, moment: Moment | None = None,
                  stderr: Path) -> tuple[bool, float, int]:
    """Start the helper ingest; SIGKILL it at at_s seconds or at the moment; whether it died."""
    env = marked_env(tmp, marks, moment.hold if moment else "")
    helper = write_helper(tmp)
    pages_before = workload.pages_started
    with stderr.open("w") as err:
        started = time.monotonic()
        proc = subprocess.Popen([sys.executable, str(helper), "--data-dir", str(data), "ingest",
                                 *workload.sources()], cwd=REPO, env=env,
                                stdout=subprocess.DEVNULL, stderr=err)
        try:
            if at_s is not None:
                while time.monotonic() - started < at_s and proc.poll() is None:
                    time.sleep(0.002)
            else:
                assert moment is not None
                deadline = started + 120
                while proc.poll() is None and time.monotonic() < deadline:
                    if moment.ready(events(marks), workload, pages_before):
                        break
                    time.sleep(0.002)
            in_flight = workload.in_flight
            after = time.monotonic() - started
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=30)
    return proc.returncode == -signal.SIGKILL, after, in_flight


def _debris(data: Path) -> list[str]:
    root = snapshot.snapshots_dir(data)
    found = [f"snapshots/{p.name}" for p in root.iterdir() if p.name.startswith(".tmp-")] \
        if root.is_dir() else []
    if (data / "CURRENT.tmp").exists():
        found.append("CURRENT.tmp")
    return sorted(found)


async def _search_top(data: Path, settings: Any, encoder: Any) -> str | None:
    index = await DocketIndex(settings, encoder).open()
    try:
        response = await index.search(JAPAN_QUESTION)
        return None if response.abstained or not response.results else response.results[0].url
    finally:
        await index.close()


def _check_after_kill(kill: Kill, data: Path, tmp: Path, settings: Any, encoder: Any,
                      with_cli: bool) -> None:
    kill.live_after = snapshot.current_name(data)
    try:
        verify(snapshot.current_path(data))
    except Exception as exc:
        kill.verify_error = f"{type(exc).__name__}: {exc}"
    if with_cli:
        done = _cli(data, tmp, "verify")
        kill.cli_verify = (done.returncode, (done.stdout + done.stderr).strip())
    try:
        kill.top_url = asyncio.run(_search_top(data, settings, encoder))
    except Exception as exc:
        kill.search_error = f"{type(exc).__name__}: {exc}"
    try:
        with snapshot.ingest_lock(data):
            pass
    except Exception as exc:
        kill.lock_error = f"{type(exc).__name__}: {exc}"


@pytest.fixture(scope="module")
def crash_loop(small_base, sample_index, encoder, live, writers, settings_for, module_http_server,
               tmp_path_factory) -> LoopReport:
    root = tmp_path_factory.mktemp("crash-loop")
    sentences = sample_sentences(live, sample_index)
    workload = Workload(corpus=root / "corpus", sentences=sentences, server=module_http_server)
    workload.install(writers)

    # 1. One uninterrupted run, in a scratch copy, to measure the workload.
    scratch = root / "scratch"
    shutil.copytree(small_base, scratch)
    workload.set_generation(0, writers)
    marks = root / "marks-measure.log"
    started = time.monotonic()
    killed, _, _ = _run_and_kill(scratch, workload, marks, root, at_s=600, stderr=root / "measure.err")
    measured = time.monotonic() - started
    assert not killed, "the measuring run did not finish in 600 s"
    assert "published" in events(marks), (root / "measure.err").read_text()
    assert len(live(scratch).articles()) == ALL_ARTICLES
    timeline: dict[str, float] = {}
    for stamp, event in read_marks(marks):
        timeline.setdefault(event, round(stamp - started, 3))

    # 2. Kill runs of the same workload on one data directory, one after another.
    data = root / "data"
    shutil.copytree(small_base, data)
    settings = settings_for(data)
    Step = tuple[str, float | None, Moment | None]
    early: list[Step] = [(f"{f:.0%} of a run", f * measured, None) for f in FRACTIONS[:8]]
    moments: list[Step] = [(m.name, None, m) for m in MOMENTS]
    late: list[Step] = [(f"{f:.0%} of a run", f * measured, None) for f in FRACTIONS[8:]]
    plan = early + moments + late
    kills: list[Kill] = []
    for n, (trigger, at_s, moment) in enumerate(plan, start=1):
        workload.set_generation(n, writers)
        marks = root / f"marks-{n:02d}.log"
        live_before = snapshot.current_name(data)
        killed, after, in_flight = _run_and_kill(data, workload, marks, root, at_s=at_s,
                                                 moment=moment, stderr=root / f"kill-{n:02d}.err")
        kill = Kill(n=n, trigger=trigger, killed=killed, after_s=round(after, 3),
                    expected_phase=moment.phase if moment else None,
                    phase=_phase(events(marks)), started_building="build" in events(marks),
                    fetch_in_flight=in_flight, debris=_debris(data), live_before=live_before)
        _check_after_kill(kill, data, root, settings, encoder,
                          with_cli=killed and (n % CLI_VERIFY_EVERY == 0 or n == len(plan)))
        kills.append(kill)

    # 3. An uninterrupted ingest on the data directory the kills left behind.
    workload.set_generation(len(plan) + 1, writers)
    before = snapshot.current_name(data)
    done = _cli(data, root, "ingest", "--json", *workload.sources())
    final: dict[str, Any] = {"returncode": done.returncode, "stderr": done.stderr,
                             "live_before": before, "live_after": snapshot.current_name(data)}
    if done.returncode == 0:
        final["summary"] = json.loads(done.stdout.strip().splitlines()[-1])
    checked = _cli(data, root, "verify")
    final["verify"] = (checked.returncode, (checked.stdout + checked.stderr).strip())
    final["debris"] = _debris(data)
    final["articles"] = len(live(data).articles())
    final["published_dirs"] = [p for p in live(data).snapshot_names() if not p.startswith(".")]
    final["top_url"] = asyncio.run(_search_top(data, settings, encoder))
    try:
        with snapshot.ingest_lock(data):
            final["lock"] = "free"
    except Exception as exc:
        final["lock"] = str(exc)
    return LoopReport(measured_s=round(measured, 2), timeline=timeline, kills=kills, final=final)


# --------------------------------------------------------------------------- tests

def _killed(report: LoopReport) -> list[Kill]:
    return [k for k in report.kills if k.killed]


def test_at_least_20_kills_spread_over_the_run(crash_loop, capsys, record_property):
    kills = _killed(crash_loop)
    by_phase = Counter(k.phase for k in kills)
    record_property("kill_points_survived", len(kills))
    record_property("kills_by_phase", json.dumps(by_phase))
    with capsys.disabled():
        print(f"\ncrash loop: one uninterrupted run took {crash_loop.measured_s} s; markers "
              f"(s after start): {crash_loop.timeline}")
        for k in crash_loop.kills:
            print(f"  kill {k.n:2d} at {k.after_s:6.2f} s ({k.trigger}): "
                  f"{'killed' if k.killed else 'FINISHED FIRST'} during {k.phase}"
                  f"{f', {k.fetch_in_flight} fetch(es) in flight' if k.fetch_in_flight else ''}"
                  f"; left {k.debris or 'nothing'}"
                  f"{'; published ' + str(k.live_after) if k.live_after != k.live_before else ''}")
        print(f"crash loop: {len(kills)} kill points survived: {dict(by_phase)}")
    assert len(kills) >= 20, [(k.trigger, k.after_s) for k in crash_loop.kills if not k.killed]
    times = sorted(k.after_s for k in kills)
    # Spread: kills in the first fifth of a run and in its last fifth.
    assert times[0] < 0.2 * crash_loop.measured_s and times[-1] > 0.8 * crash_loop.measured_s


def test_each_event_triggered_kill_landed_in_the_step_it_names(crash_loop):
    moments = [k for k in crash_loop.kills if k.expected_phase is not None]
    assert [k.trigger for k in moments] == [m.name for m in MOMENTS]
    missed = [(k.n, k.trigger, k.killed, k.phase) for k in moments
              if not k.killed or k.phase != k.expected_phase]
    assert not missed, missed


def test_kills_landed_in_fetch_embedding_writing_and_publish(crash_loop):
    phases = {k.phase for k in _killed(crash_loop)}
    assert REQUIRED_PHASES <= phases, REQUIRED_PHASES - phases
    # A kill during the fetch phase really cut a request off (the server saw it in flight).
    assert any(k.phase == "fetch" and k.fetch_in_flight for k in _killed(crash_loop))


def test_kills_left_unfinished_work_behind_for_the_next_run_to_clean(crash_loop):
    # Not a vacuous loop: most kills left a half-built snapshot (or CURRENT.tmp) on disk.
    with_debris = [k for k in _killed(crash_loop) if k.debris]
    assert len(with_debris) >= len(_killed(crash_loop)) // 2
    assert any("CURRENT.tmp" in k.debris for k in with_debris)


def test_after_every_kill_the_published_snapshot_verifies(crash_loop):
    failed = [(k.n, k.trigger, k.verify_error) for k in _killed(crash_loop) if k.verify_error]
    assert not failed
    cli = [k for k in _killed(crash_loop) if k.cli_verify is not None]
    assert len(cli) >= 5
    for k in cli:
        assert k.cli_verify is not None
        code, output = k.cli_verify
        assert code == 0 and f"ok: snapshot {k.live_after}" in output, (k.n, k.trigger, output)


def test_after_every_kill_search_answers_from_the_published_snapshot(crash_loop):
    wrong = [(k.n, k.trigger, k.top_url, k.search_error) for k in _killed(crash_loop)
             if k.top_url != JAPAN_URL]
    assert not wrong


def test_after_every_kill_the_ingest_lock_is_free(crash_loop):
    assert not [(k.n, k.lock_error) for k in _killed(crash_loop) if k.lock_error]


def test_every_run_after_a_kill_got_past_the_lock_and_the_leftovers(crash_loop):
    kills = crash_loop.kills
    # No run stopped on its own short of publishing, as one would that found the lock held
    # or could not deal with what the kill before it had left behind...
    assert not [(k.n, k.trigger, k.phase) for k in kills
                if not k.killed and k.phase != "after publish"]
    # ...and the event-triggered runs (each at a step after the build directory is made) that
    # followed a kill which had left debris took the lock, cleaned up and built.
    after_debris = [k for before, k in itertools.pairwise(kills)
                    if before.debris and k.expected_phase is not None]
    assert len(after_debris) >= 5, [(k.n, k.trigger) for k in after_debris]
    assert not [(k.n, k.trigger) for k in after_debris if not k.started_building]


def test_a_kill_publishes_the_new_snapshot_whole_or_not_at_all(crash_loop):
    for k in _killed(crash_loop):
        if k.phase in {"starting up", "copying the base snapshot", "reading local files", "fetch",
                       "chunking", "loading the model", "embedding", "SQLite writes", "FAISS write",
                       "manifest"}:
            assert k.live_after == k.live_before, (k.n, k.trigger, k.phase)
    # The kill just after publishing left the new snapshot live (and whole: verified above).
    after = [k for k in _killed(crash_loop) if k.phase == "after publish"]
    assert after and all(k.live_after != k.live_before for k in after)


def test_the_next_uninterrupted_ingest_completes_publishes_and_leaves_nothing_behind(crash_loop):
    final = crash_loop.final
    assert final["returncode"] == 0, final["stderr"]
    summary = final["summary"]
    assert summary["published"] and summary["failed"] == 0, summary["failures"]
    assert summary["new"] + summary["updated"] == ALL_ARTICLES - BASE_ARTICLES
    assert final["live_after"] == summary["snapshot"] != final["live_before"]
    assert final["verify"][0] == 0 and f"ok: snapshot {final['live_after']}" in final["verify"][1]
    assert final["articles"] == ALL_ARTICLES
    assert final["top_url"] == JAPAN_URL
    assert final["debris"] == [] and final["lock"] == "free"
    assert len(final["published_dirs"]) <= 2  # keep_snapshots: old snapshots were pruned
