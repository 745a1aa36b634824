"""Crashes and corruption: a killed ingest never harms the published snapshot, and a damaged
snapshot is refused with a message that names the file, while a running index keeps serving."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from crashkit import (
    HELD,
    JAPAN_URL,
    REPO,
    events,
    last_step,
    marked_env,
    sample_sentences,
    write_helper,
)

from index import snapshot, vectors
from index.errors import IndexNotReady
from index.ingest import ingest
from index.service import DocketIndex

CORPUS_ARTICLES = 60


@pytest.fixture(scope="module")
def crash_corpus(sample_index, live, writers, tmp_path_factory) -> Path:
    """~60 Markdown articles stitched from the sample corpus's sentences: a few seconds of work."""
    sentences = sample_sentences(live, sample_index)
    rng = random.Random(60)
    root = tmp_path_factory.mktemp("crash-corpus")
    for n in range(CORPUS_ARTICLES):
        writers.markdown(root / f"article-{n:02d}.md", title=f"Crash test article {n}",
                         url=f"https://crash.example.org/articles/{n}",
                         body="\n".join(rng.sample(sentences, 5)),
                         published=f"2022-{1 + n % 12:02d}-{1 + n % 28:02d}", outlet="Crash Times")
    return root


def _snapshots(data_dir: Path) -> list[Path]:
    root = snapshot.snapshots_dir(data_dir)
    return sorted(root.iterdir()) if root.is_dir() else []


def _building(data_dir: Path) -> list[Path]:
    return [p for p in _snapshots(data_dir) if p.name.startswith(".tmp-")]


def _published_other_than(data_dir: Path, name: str) -> list[Path]:
    return [p for p in _snapshots(data_dir) if not p.name.startswith(".") and p.name != name]


def _started(data_dir: Path, base: str) -> bool:
    return bool(_building(data_dir))


def _vectors_written(data_dir: Path, base: str) -> bool:
    return any((p / vectors.FLAT_FILE).exists() for p in _building(data_dir))


def _manifest_written(data_dir: Path, base: str) -> bool:
    return any((p / snapshot.MANIFEST).exists() for p in _building(data_dir))


def _moved_but_not_pointed_to(data_dir: Path, base: str) -> bool:
    return (data_dir / "CURRENT.tmp").exists()


# The ingest runs in crashkit.HELPER: the real CLI writing a marker before and after each
# step, holding still at the marker a moment names until it is killed.
@dataclass(frozen=True)
class Moment:
    """Where a kill lands: the ingest holds still after marker `hold`; when `seen` is given,
    the kill comes as soon as that is on disk (the hold is then a backstop: the ingest cannot
    get past it); afterwards the last marker written must be one of `phase`."""

    hold: str
    phase: frozenset[str]
    seen: Callable[[Path, str], bool] | None = None


MOMENTS: dict[str, Moment] = {
    # From the build directory's creation (the base snapshot being copied) to the model load.
    "build directory created": Moment(
        "model export ready", frozenset({"building", "build", "collect", "collected", "model",
                                         "model export", "model export ready"}), _started),
    # Inside the model load: its export found and checked, the inference session not built.
    "loading the model": Moment("model export ready", frozenset({"model export ready"})),
    # Inside the encode call: half of the batch's sentences embedded, the rest not.
    "embedding": Moment("embedded half", frozenset({"embedded half"})),
    # From the vector file's appearance to the manifest's being written.
    "vector file being written": Moment(
        "manifest", frozenset({"faiss", "faiss written", "manifest"}), _vectors_written),
    # The manifest is in place (its step may not have returned yet), nothing published.
    "manifest written, not yet published": Moment(
        "manifest written", frozenset({"manifest", "manifest written"}), _manifest_written),
    # Inside the publish step: the snapshot renamed into place and CURRENT.tmp written (maybe
    # not yet fsynced), CURRENT not yet replaced.
    "snapshot moved into place, CURRENT not yet switched": Moment(
        "current.tmp written", frozenset({"publish", "current.tmp written"}),
        _moved_but_not_pointed_to),
}


def _kill_ingest_at(moment: str, data: Path, corpus: Path, tmp: Path, poll) -> list[str]:
    """Start the ingest, wait for the moment, SIGKILL it; fail if it ends on its own first or
    if the kill landed anywhere else. Returns the markers the ingest wrote."""
    base = snapshot.current_name(data) or ""
    spec = MOMENTS[moment]
    marks = tmp / "ingest.marks"
    marks.unlink(missing_ok=True)
    helper = write_helper(tmp)
    proc = subprocess.Popen([sys.executable, str(helper), "--data-dir", str(data), "ingest",
                             str(corpus)], cwd=REPO, env=marked_env(tmp, marks, spec.hold),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def reached() -> bool:
        if proc.poll() is not None:
            return True
        if spec.seen is not None:
            return spec.seen(data, base)
        return HELD in events(marks)

    try:
        seen = poll(reached, timeout=120)
        assert seen and proc.poll() is None, f"the ingest ended before '{moment}'"
        proc.send_signal(signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, "the ingest finished before it could be killed"
    found = events(marks)
    landed = last_step(found)
    assert landed in spec.phase, f"killed after {landed!r}, not at '{moment}': {found}"
    if spec.seen is not None:
        assert spec.seen(data, base), f"the state that '{moment}' names is gone: {found}"
    return found


@pytest.mark.asyncio
@pytest.mark.parametrize("moment", list(MOMENTS))
async def test_killed_ingest_leaves_the_last_snapshot_serving_and_the_next_ingest_publishes(
        moment, base_copy, crash_corpus, encoder, settings_for, live, run_cli, poll, tmp_path):
    data = base_copy
    base = live(data).name
    _kill_ingest_at(moment, data, crash_corpus, tmp_path, poll)

    # The published snapshot is still the previous one, and it is whole.
    assert live(data).name == base
    assert _building(data) or _published_other_than(data, base), "the run left no trace to clean"
    checked = run_cli(data, "verify")
    assert checked.returncode == 0, checked.stderr
    assert f"ok: snapshot {base}" in checked.stdout
    settings = settings_for(data)
    index = await DocketIndex(settings, encoder).open()
    try:
        response = await index.search("What did Japan ask OpenAI about Sora 2?")
        assert not response.abstained and response.results[0].url == JAPAN_URL
    finally:
        await index.close()

    # Nothing left behind blocks the next run, which completes and publishes.
    with snapshot.ingest_lock(data):
        pass
    summary = await ingest([str(crash_corpus)], settings, encoder)
    assert (summary.new, summary.failed) == (CORPUS_ARTICLES, 0), summary.failures
    assert summary.published and live(data).name == summary.snapshot != base
    assert not _building(data), "half-built snapshots were not cleaned up"
    assert not (data / "CURRENT.tmp").exists()
    assert len(live(data).articles()) == 3 + CORPUS_ARTICLES
    checked = run_cli(data, "verify")
    assert checked.returncode == 0, checked.stderr


# --------------------------------------------------------------------------- corruption

def _truncate_faiss(path: Path) -> str:
    target = path / vectors.FLAT_FILE
    data = target.read_bytes()
    target.write_bytes(data[: len(data) // 2])
    return vectors.FLAT_FILE


def _flip_sqlite_byte(path: Path) -> str:
    target = path / snapshot.DB_FILE
    with target.open("r+b") as fh:
        fh.seek(target.stat().st_size // 2)
        byte = fh.read(1)
        fh.seek(-1, os.SEEK_CUR)
        fh.write(bytes([byte[0] ^ 0xFF]))
    return snapshot.DB_FILE


def _break_manifest(path: Path) -> str:
    (path / snapshot.MANIFEST).write_text('{"snapshot": "half-written', encoding="utf-8")
    return snapshot.MANIFEST


def _delete_vectors(path: Path) -> str:
    (path / vectors.FLAT_FILE).unlink()
    return vectors.FLAT_FILE


def _truncate_sentence_vectors(path: Path) -> str:
    target = path / "sentences.f16"
    with target.open("r+b") as fh:
        fh.truncate(target.stat().st_size - 384 * 2 * 3)
    return "sentences.f16"


CORRUPTIONS = {
    "FAISS file truncated": _truncate_faiss,
    "SQLite byte altered": _flip_sqlite_byte,
    "manifest.json broken": _break_manifest,
    "FAISS file missing": _delete_vectors,
    "sentence vectors truncated": _truncate_sentence_vectors,
}


@pytest.mark.asyncio
@pytest.mark.parametrize("corruption", list(CORRUPTIONS))
async def test_corrupt_live_snapshot_is_refused_naming_the_file(sample_copy, encoder, settings_for,
                                                               live, corruption):
    named = CORRUPTIONS[corruption](live(sample_copy).path)
    with pytest.raises(IndexNotReady) as caught:
        await DocketIndex(settings_for(sample_copy), encoder).open()
    assert named in str(caught.value)


@pytest.mark.parametrize("corruption", list(CORRUPTIONS))
def test_verify_fails_naming_the_damaged_file(sample_copy, live, run_cli, corruption):
    named = CORRUPTIONS[corruption](live(sample_copy).path)
    done = run_cli(sample_copy, "verify")
    assert done.returncode != 0
    assert "verify failed" in done.stderr and named in done.stderr


@pytest.mark.asyncio
async def test_opening_a_data_dir_without_an_index_says_how_to_build_one(tmp_path, encoder,
                                                                         settings_for):
    with pytest.raises(IndexNotReady) as caught:
        await DocketIndex(settings_for(tmp_path / "empty"), encoder).open()
    assert "python -m index ingest" in str(caught.value)


def test_verify_without_an_index_is_a_usage_error(tmp_path, run_cli):
    done = run_cli(tmp_path / "empty", "verify")
    assert done.returncode == 2
    assert "no index" in done.stderr


@pytest.mark.asyncio
async def test_snapshot_built_for_another_model_is_refused(sample_copy, encoder, settings_for, live):
    path = live(sample_copy).path / snapshot.MANIFEST
    manifest = json.loads(path.read_text())
    manifest["model"], manifest["dimension"] = "someone/other-model", 768
    path.write_text(json.dumps(manifest))
    with pytest.raises(IndexNotReady) as caught:
        await DocketIndex(settings_for(sample_copy), encoder).open()
    assert "someone/other-model" in str(caught.value) and "--full" in str(caught.value)


def _publish_broken_copy(data_dir: Path, live, corrupt: Callable[[Path], str]) -> tuple[str, str]:
    """Copy the live snapshot under a newer name, damage it, and point CURRENT at it."""
    import shutil

    name = "29991231T235959-broken"
    target = snapshot.snapshots_dir(data_dir) / name
    shutil.copytree(live(data_dir).path, target)
    named = corrupt(target)
    (data_dir / "CURRENT").write_text(name + "\n")
    return name, named


@pytest.mark.asyncio
@pytest.mark.parametrize("corruption", list(CORRUPTIONS))
async def test_serving_index_keeps_its_snapshot_when_a_broken_one_is_published(
        sample_copy, encoder, settings_for, live, corruption):
    index = await DocketIndex(settings_for(sample_copy), encoder).open()
    try:
        serving = index.snapshot.name
        _, named = _publish_broken_copy(sample_copy, live, CORRUPTIONS[corruption])
        assert await index.reload_if_changed() is False
        assert index.snapshot.name == serving
        assert named in (index.last_reload_error or "")
        response = await index.search("What did Japan ask OpenAI about Sora 2?")
        assert not response.abstained and response.results[0].url == JAPAN_URL
        assert response.snapshot == serving
    finally:
        await index.close()


@pytest.mark.asyncio
async def test_serving_index_moves_to_a_newly_published_good_snapshot(base_copy, encoder,
                                                                      settings_for, live, writers):
    settings = settings_for(base_copy)
    index = await DocketIndex(settings, encoder).open()
    try:
        old = index.snapshot.name
        writers.markdown(base_copy.parent / "sources" / "new.md", title="Brindlemoor case",
                         url="https://gazette.example.net/brindlemoor",
                         body=writers.body("Brindlemoor", 10))
        summary = await ingest([str(base_copy.parent / "sources")], settings, encoder)
        assert await index.reload_if_changed() is True
        assert index.snapshot.name == summary.snapshot != old
        response = await index.search("What happened in the Brindlemoor dispute?")
        assert response.results and response.results[0].url == "https://gazette.example.net/brindlemoor"
    finally:
        await index.close()


@pytest.mark.asyncio
async def test_next_ingest_after_a_corrupt_live_snapshot_builds_on_the_last_good_one(
        base_copy, encoder, settings_for, live, writers, run_cli):
    settings = settings_for(base_copy)
    sources = base_copy.parent / "sources"
    writers.markdown(sources / "one.md", title="Brindlemoor case", url="https://g.example/one",
                     body=writers.body("Brindlemoor", 10))
    await ingest([str(sources)], settings, encoder)
    _flip_sqlite_byte(live(base_copy).path)
    writers.markdown(sources / "two.md", title="Oakhollow case", url="https://g.example/two",
                     body=writers.body("Oakhollow", 10))
    summary = await ingest([str(sources)], settings, encoder)
    assert summary.published and summary.failed == 0
    assert set(live(base_copy).articles()) >= {"https://g.example/one", "https://g.example/two"}
    assert len(live(base_copy).articles()) == 5
    assert run_cli(base_copy, "verify").returncode == 0
