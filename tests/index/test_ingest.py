"""Ingest: idempotence, replacement, removal, story grouping, summary, exit codes and schema upgrades."""

from __future__ import annotations

import json
import re

import pytest

from index import snapshot, vectors
from index.errors import IngestBusy
from index.ingest import ingest
from index.service import DocketIndex
from index.sources import sample_dir
from index.verify import verify

QUILL_URL = "https://gazette.example.net/quillport"
SUMMARY_LINE = re.compile(
    r"^articles: (\d+) new, (\d+) updated, (\d+) unchanged, (\d+) removed, (\d+) failed; "
    r"(\d+) passages embedded in \d+\.\ds \(\d+/s\); snapshot (\S+)$")


def _sources(data_dir):
    return data_dir.parent / "sources"


def _write_quill(writers, data_dir, topic="Quillport"):
    return writers.markdown(_sources(data_dir) / "quill.md", title=f"{topic} case", url=QUILL_URL,
                            body=writers.body(topic, 10))


def _check_consistent(view):
    """Passages, full-text rows, FAISS vectors and the manifest all agree."""
    ids = view.passage_ids()
    flat = view.flat()
    stored, _ = vectors.flat_contents(flat)
    assert flat.ntotal == len(ids) == view.manifest()["passages"]
    assert sorted(stored.tolist()) == ids
    assert view.count("passages_fts") == len(ids)
    orphans = view.query("SELECT count(*) FROM passages WHERE article_id NOT IN "
                         "(SELECT id FROM articles)")[0][0]
    assert orphans == 0
    verify(view.path)


# --------------------------------------------------------------------------- idempotence

@pytest.mark.asyncio
async def test_reingest_of_the_same_sources_embeds_nothing(base_copy, encoder, settings_for):
    settings = settings_for(base_copy)
    await ingest([str(_sources(base_copy))], settings, encoder)  # base_copy's sources moved: settle
    summary = await ingest([str(_sources(base_copy))], settings, encoder)
    assert (summary.new, summary.updated, summary.unchanged, summary.failed) == (0, 0, 3, 0)
    assert summary.passages_embedded == 0


@pytest.mark.asyncio
async def test_moved_sources_with_unchanged_articles_embed_nothing(base_copy, encoder, settings_for):
    # base_copy holds a copy of small_base's sources in another directory.
    summary = await ingest([str(_sources(base_copy))], settings_for(base_copy), encoder)
    assert (summary.new, summary.updated, summary.unchanged, summary.failed) == (0, 0, 3, 0)
    assert summary.passages_embedded == 0


@pytest.mark.asyncio
async def test_unchanged_reingest_never_loads_the_model(base_copy, settings_for):
    loads = []

    def load_model():
        loads.append(1)
        raise AssertionError("the model was loaded although nothing needed embedding")

    settings = settings_for(base_copy)
    for _ in range(2):
        summary = await ingest([str(_sources(base_copy))], settings, load_model)
        assert summary.unchanged == 3
    assert loads == []


@pytest.mark.asyncio
async def test_reingest_of_the_same_sources_publishes_no_new_snapshot(base_copy, encoder,
                                                                      settings_for, live):
    settings = settings_for(base_copy)
    await ingest([str(_sources(base_copy))], settings, encoder)  # base_copy's sources moved: settle
    before = live(base_copy).name
    summary = await ingest([str(_sources(base_copy))], settings, encoder)
    assert live(base_copy).name == before
    assert not summary.published and summary.snapshot == before


# --------------------------------------------------------------------------- changes and removals

@pytest.mark.asyncio
async def test_changed_article_replaces_its_old_text_everywhere(base_copy, encoder, settings_for,
                                                                live, writers):
    settings = settings_for(base_copy)
    _write_quill(writers, base_copy, "Quillport")
    await ingest([str(_sources(base_copy))], settings, encoder)
    _write_quill(writers, base_copy, "Marrowfield")
    summary = await ingest([str(_sources(base_copy))], settings, encoder)
    assert (summary.new, summary.updated, summary.unchanged) == (0, 1, 3)
    assert summary.updated_urls == [QUILL_URL]
    view = live(base_copy)
    assert "Marrowfield" in view.article(QUILL_URL)["text"]
    assert view.query("SELECT count(*) FROM articles WHERE text LIKE '%Quillport%'")[0][0] == 0
    assert view.query("SELECT count(*) FROM passages_fts WHERE passages_fts MATCH 'quillport'")[0][0] == 0
    index = await DocketIndex(settings, encoder).open()
    try:
        old = await index.search("What happened in the Quillport dispute?", k=5, min_relevance=-1)
        assert all("Quillport" not in r.snippet for r in old.results)
        new = await index.search("What happened in the Marrowfield dispute?", k=3)
        assert new.results and new.results[0].url == QUILL_URL
        assert "Marrowfield" in new.results[0].snippet
    finally:
        await index.close()


@pytest.mark.asyncio
async def test_changed_article_leaves_passages_vectors_and_manifest_consistent(
        base_copy, encoder, settings_for, live, writers):
    settings = settings_for(base_copy)
    _write_quill(writers, base_copy, "Quillport")
    await ingest([str(_sources(base_copy))], settings, encoder)
    before = live(base_copy).passage_ids()
    old_ids = {int(r[0]) for r in live(base_copy).query(
        "SELECT p.id FROM passages p JOIN articles a ON a.id = p.article_id WHERE a.url = ?",
        (QUILL_URL,))}
    writers.markdown(_sources(base_copy) / "quill.md", title="Quillport case", url=QUILL_URL,
                     body=writers.body("Quillport", 24))  # longer: more passages than before
    summary = await ingest([str(_sources(base_copy))], settings, encoder)
    assert summary.updated == 1 and summary.passages_embedded > len(old_ids)
    view = live(base_copy)
    after = view.passage_ids()
    assert not old_ids & set(after), "old passages survived the update"
    stored, _ = vectors.flat_contents(view.flat())
    assert not old_ids & set(stored.tolist()), "old vectors survived the update"
    assert len(after) == len(before) - len(old_ids) + summary.passages_embedded
    _check_consistent(view)


@pytest.mark.asyncio
async def test_removed_source_keeps_its_articles_without_prune(base_copy, encoder, settings_for,
                                                               live, writers):
    settings = settings_for(base_copy)
    path = _write_quill(writers, base_copy)
    await ingest([str(_sources(base_copy))], settings, encoder)
    path.unlink()
    summary = await ingest([str(_sources(base_copy))], settings, encoder)
    assert summary.removed == 0
    assert QUILL_URL in live(base_copy).articles()


@pytest.mark.asyncio
async def test_prune_drops_the_articles_and_vectors_of_removed_sources(base_copy, encoder,
                                                                       settings_for, live, writers):
    settings = settings_for(base_copy)
    path = _write_quill(writers, base_copy)
    await ingest([str(_sources(base_copy))], settings, encoder)
    passages_before = live(base_copy).count("passages")
    path.unlink()
    summary = await ingest([str(_sources(base_copy))], settings, encoder, prune=True)
    view = live(base_copy)
    assert summary.removed == 1
    assert QUILL_URL not in view.articles()
    assert len(view.articles()) == 3
    assert view.flat().ntotal < passages_before
    _check_consistent(view)


@pytest.mark.asyncio
async def test_prune_keeps_the_articles_of_a_source_that_failed_this_run(
        tmp_path, encoder, net_settings, live, writers, http_server):
    url = http_server.page("/story", writers.html(title="Quillport case",
                                                  paragraphs=writers.body("Quillport", 9).split("\n")))
    data = tmp_path / "data"
    settings = net_settings(data)
    await ingest([url], settings, encoder)
    http_server.status("/story", 500)
    summary = await ingest([url], settings, encoder, prune=True)
    assert [f["reason"] for f in summary.failures] == ["http_500"]
    assert len(live(data).articles()) == 1, "a transient error must not delete indexed articles"


@pytest.mark.asyncio
async def test_second_ingest_while_one_runs_is_refused(base_copy, encoder, settings_for, live):
    before = live(base_copy).name
    with snapshot.ingest_lock(base_copy), pytest.raises(IngestBusy):
        await ingest([str(_sources(base_copy))], settings_for(base_copy), encoder)
    assert live(base_copy).name == before


# --------------------------------------------------------------------------- stories

ANTHROPIC_AP = ("https://www.local10.com/business/2025/09/08/judge-reviews-15b-anthropic-settlement-"
                "proposal-with-authors-over-pirated-books-for-ai-training")
ANTHROPIC_SYNDICATED = ("https://www.springfieldnewssun.com/news/nation-world/judge-reviews-15b-"
                        "anthropic-settlement-proposal-with-authors-over-pirated-books-for-ai-"
                        "training/2V6VI4RRDNLO5P2RDIODXJRYGA")


def test_syndicated_sample_copies_share_a_story_id(sample_index, live):
    view = live(sample_index)
    ap, copy = view.article(ANTHROPIC_AP), view.article(ANTHROPIC_SYNDICATED)
    assert ap["outlet"] != copy["outlet"]
    assert (ap["story_id"] or ap["id"]) == (copy["story_id"] or copy["id"])


def test_other_sample_articles_are_stories_of_their_own(sample_index, live):
    view = live(sample_index)
    rows = view.query("SELECT coalesce(story_id, id) AS story, count(*) AS n FROM articles "
                      "GROUP BY story HAVING n > 1")
    assert len(rows) == 1 and rows[0]["n"] == 2
    assert view.manifest()["stories"] == view.count("articles") - 1


# --------------------------------------------------------------------------- summary and CLI

@pytest.mark.asyncio
async def test_summary_line_reports_counts_and_snapshot(base_copy, encoder, settings_for, writers):
    _write_quill(writers, base_copy)
    summary = await ingest([str(_sources(base_copy))], settings_for(base_copy), encoder)
    match = SUMMARY_LINE.match(summary.line())
    assert match, summary.line()
    assert match.groups()[:6] == ("1", "0", "3", "0", "0", str(summary.passages_embedded))
    assert match.group(7) == summary.snapshot
    assert summary.exit_code == 0


def test_cli_ingest_exits_0_and_prints_the_summary_line(tmp_path, run_cli, writers, live):
    src = tmp_path / "src"
    writers.markdown(src / "quill.md", title="Quillport case", url=QUILL_URL,
                     body=writers.body("Quillport", 10))
    data = tmp_path / "data"
    done = run_cli(data, "ingest", str(src))
    assert done.returncode == 0, done.stderr
    match = SUMMARY_LINE.match(done.stdout.strip())
    assert match, done.stdout
    assert match.group(1) == "1" and match.group(7) == live(data).name


def test_cli_ingest_exits_1_when_a_source_fails(base_copy, run_cli, tmp_path):
    missing = tmp_path / "no-such-dir"
    done = run_cli(base_copy, "ingest", str(_sources(base_copy)), str(missing))
    assert done.returncode == 1, done.stderr
    assert f"failed: {missing}: no such file or directory" in done.stderr
    match = SUMMARY_LINE.match(done.stdout.strip())
    assert match and match.group(3) == "3" and match.group(5) == "1", done.stdout


def test_cli_ingest_json_prints_the_summary_object(base_copy, run_cli):
    done = run_cli(base_copy, "ingest", "--json", str(_sources(base_copy)))
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert {"new", "updated", "unchanged", "removed", "failed", "passages_embedded", "seconds",
            "snapshot", "failures"} <= set(data)
    assert (data["unchanged"], data["passages_embedded"], data["failures"]) == (3, 0, [])


def test_cli_ingest_without_sources_is_a_usage_error(tmp_path, run_cli):
    config = tmp_path / "settings.toml"
    config.write_text("[index]\nsources = []\n", encoding="utf-8")
    done = run_cli(tmp_path / "data", "--config", str(config), "ingest")
    assert done.returncode == 2
    assert "nothing to ingest" in done.stderr


def test_cli_bad_configuration_is_a_usage_error(tmp_path, run_cli, writers):
    config = tmp_path / "settings.toml"
    config.write_text("[search]\nno_such_setting = 1\n", encoding="utf-8")
    src = writers.markdown(tmp_path / "src" / "q.md", title="Q", url=QUILL_URL,
                           body=writers.body("Quillport", 10))
    done = run_cli(tmp_path / "data", "--config", str(config), "ingest", str(src))
    assert done.returncode == 2
    assert "no_such_setting" in done.stderr
    assert not (tmp_path / "data" / "CURRENT").exists()


@pytest.mark.asyncio
async def test_snapshot_of_the_previous_schema_is_still_served(sample_copy, encoder, settings_for):
    """A bot upgraded before its next ingest keeps answering from the snapshot it has."""
    import sqlite3

    live = snapshot.current_path(sample_copy)
    con = sqlite3.connect(live / snapshot.DB_FILE)
    con.execute("DROP TABLE term_docs")
    con.execute("PRAGMA user_version = 1")
    con.commit()
    con.close()
    manifest = snapshot.read_manifest(live)
    snapshot.write_manifest(live, manifest.data)
    assert verify(live)["passages"] == manifest.data["passages"]
    index = await DocketIndex(settings_for(sample_copy), encoder).open()
    try:
        response = await index.search("How much will Anthropic pay authors per book?")
        assert not response.abstained
        assert "3,000" in response.results[0].snippet
    finally:
        await index.close()
    # The next ingest, with nothing new to embed, republishes it in the current schema.
    summary = await ingest([str(sample_dir())], settings_for(sample_copy), encoder)
    assert summary.published and summary.passages_embedded == 0
    assert verify(snapshot.current_path(sample_copy))["passages"] == manifest.data["passages"]
