"""Cases as the product shows them: found at ingest, stored in the snapshot, corrected by
config/cases.toml when the index opens, listed and told as timelines by the CLI."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest

from index import casebook, snapshot
from index.cases import load_check, score_assignment
from index.errors import SnapshotError
from index.service import DocketIndex
from index.sources import sample_dir

session_loop = pytest.mark.asyncio(loop_scope="session")
CHECK = Path(str(sample_dir())).parent / "cases_check.json"


def live_dir(data_dir: Path) -> Path:
    return snapshot.current_path(data_dir)


def test_ingest_stores_the_cases_in_the_snapshot_and_its_manifest(sample_index):
    directory = live_dir(sample_index)
    manifest = snapshot.read_manifest(directory)
    assert casebook.CASES_FILE in manifest.files  # checksummed like every other file
    found = casebook.read(directory)
    assert manifest.data["cases"] == len(found.cases) >= 20
    # Every timeline sentence is the article's own text.
    for case in found.cases:
        assert [e.story_id for e in found.timelines[case.key]]
        for e in found.timelines[case.key]:
            assert e.sentence and e.url.startswith(("http", "file:"))


@session_loop
async def test_story_to_case_assignment_against_the_hand_made_check(index, sample_index, live):
    """The check set (written before detection) says which sample files report on which
    case; a story found in a case stands for every file of the story."""
    view = live(sample_index)
    story_of_url = {r["url"]: str(r["story_id"] or r["id"])
                    for r in view.query("SELECT id, url, story_id FROM articles")}
    files_of_story: dict[str, set[str]] = {}
    for r in view.query("SELECT locator, urls FROM sources"):
        for url in json.loads(r["urls"]):
            files_of_story.setdefault(story_of_url[url], set()).add(Path(r["locator"]).name)
    as_files = [dataclasses.replace(c, story_ids=tuple(sorted(
        f for s in c.story_ids for f in files_of_story.get(s, ())))) for c in index.cases.cases]
    score = score_assignment(as_files, load_check(CHECK))
    assert score.missed == ()  # every case two or more stories report on is found
    assert score.precision >= 0.9 and score.recall >= 0.9, score


@session_loop
async def test_cases_are_most_recently_active_first_and_found_however_typed(index):
    book = index.cases
    lasts = [c.last or "" for c in book.cases]
    assert lasts == sorted(lasts, reverse=True)
    for typed in ("Bartz v. Anthropic", "bartz v anthropic", "BARTZ V. ANTHROPIC", "bartz anthropic"):
        case = book.resolve(typed)
        assert case is not None and case.name == "Bartz v. Anthropic", typed
    assert book.resolve("Zorblatt v. Qux") is None
    assert "Bartz v. Anthropic" in book.closest("barts v antropic")


@session_loop
async def test_a_timeline_is_newest_first_with_one_verbatim_sentence_per_story(index, sample_index, live):
    book = index.cases
    case = book.resolve("Bartz v. Anthropic")
    assert case is not None
    entries = book.timeline(case)
    assert len(entries) == len(case.story_ids) >= 3
    dates = [e.date for e in entries]
    assert dates == sorted(dates, reverse=True)
    texts = {r["url"]: r["text"] for r in live(sample_index).query("SELECT url, text FROM articles")}
    for e in entries:
        assert e.sentence in texts[e.url]
    # The newest story is the settlement's approval; its sentence says what happened.
    assert "approv" in entries[0].sentence.lower()


@session_loop
async def test_a_question_naming_a_case_is_recognised(index):
    book = index.cases
    named = book.named_in("what's the latest in bartz v anthropic?")
    assert named is not None and named.name == "Bartz v. Anthropic"
    assert book.named_in("what did anthropic pay the authors?") is None  # no case named


@session_loop
async def test_overrides_rename_and_hide_without_a_reindex(sample_index, encoder, settings_for, tmp_path):
    overrides = tmp_path / "cases.toml"
    overrides.write_text('hide = ["Chegg v. Google"]\n[rename]\n"Bartz v. Anthropic" = '
                         '"Bartz et al. v. Anthropic PBC"\n', encoding="utf-8")
    opened = await DocketIndex(settings_for(sample_index, cases=str(overrides)), encoder).open()
    try:
        book = opened.cases
        names = {c.name for c in book.cases}
        assert "Chegg v. Google" not in names and "Bartz et al. v. Anthropic PBC" in names
        renamed = book.resolve("bartz v anthropic")  # the old name stays an alias
        assert renamed is not None and renamed.name == "Bartz et al. v. Anthropic PBC"
        assert len(book.timeline(renamed)) >= 3  # its sentences came along
    finally:
        await opened.close()


def test_a_corrupt_cases_file_is_a_clear_snapshot_error(tmp_path):
    (tmp_path / casebook.CASES_FILE).write_text("{not json", encoding="utf-8")
    with pytest.raises(SnapshotError, match="cases"):
        casebook.read(tmp_path)
    (tmp_path / casebook.CASES_FILE).write_text(json.dumps({"format": 99}), encoding="utf-8")
    with pytest.raises(SnapshotError, match="format"):
        casebook.read(tmp_path)


def test_a_snapshot_from_before_cases_knows_none(tmp_path):
    found = casebook.read(tmp_path)
    assert found.cases == [] and casebook.CaseBook.of(found).resolve("Bartz v. Anthropic") is None


def test_cli_lists_cases_and_prints_a_timeline(sample_index, run_cli, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(sample_index, data)
    listed = run_cli(data, "cases", "--json")
    assert listed.returncode == 0, listed.stderr
    cases = json.loads(listed.stdout)["cases"]
    bartz = next(c for c in cases if c["name"] == "Bartz v. Anthropic")
    assert bartz["stories"] >= 3 and bartz["first"] <= bartz["last"]

    text = run_cli(data, "case", "bartz v anthropic")
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines[0].startswith("Bartz v. Anthropic — ") and lines[1].startswith("Latest (")

    timeline = json.loads(run_cli(data, "case", "Bartz v. Anthropic", "--json").stdout)
    assert [e["date"] for e in timeline["timeline"]] == sorted(
        (e["date"] for e in timeline["timeline"]), reverse=True)

    missing = run_cli(data, "case", "barts v antropik zzz")
    assert missing.returncode == 1
    assert missing.stdout.startswith("No case called “barts v antropik zzz”. Closest: ")
    assert "Bartz v. Anthropic" in missing.stdout and len(missing.stdout.splitlines()) == 1
