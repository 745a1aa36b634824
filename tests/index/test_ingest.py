"""Ingest: idempotence, replacement, removal, story grouping, exact vectors, summary and exit codes."""

from __future__ import annotations

import json
import re
from typing import Any

import faiss
import numpy as np
import pytest

from index import snapshot, vectors
from index.errors import IngestBusy
from index.evaluate import default_qa_path, load_qa
from index.ingest import ingest
from index.service import DocketIndex
from index.settings import VectorSettings
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


# --------------------------------------------------------------------------- vectors

def _brute_force(matrix, query, k):
    scores = matrix @ query
    order = np.argsort(-scores, kind="stable")[:k]
    return scores, order


@pytest.fixture(scope="module")
def sample_vectors(sample_index):
    from index.snapshot import current_path

    flat = vectors.load(current_path(sample_index) / vectors.FLAT_FILE)
    ids, matrix = vectors.flat_contents(flat)
    return flat, ids, matrix


def test_stored_passage_vectors_are_unit_length(sample_vectors):
    _, _, matrix = sample_vectors
    assert np.allclose(np.linalg.norm(matrix, axis=1), 1.0, atol=1e-4)


def test_faiss_top_k_matches_numpy_brute_force(sample_vectors, encoder):
    flat, ids, matrix = sample_vectors
    rng = np.random.default_rng(20250915)
    random_queries = rng.normal(size=(300, flat.d)).astype(np.float32)
    random_queries /= np.linalg.norm(random_queries, axis=1, keepdims=True)
    questions = [item["question"] for item in load_qa(default_qa_path())]
    queries = np.vstack([random_queries, encoder.encode(questions)])
    for k in (1, 5, 10, 50):
        for q in queries:
            scores, found = vectors.search(flat, q[None, :], k)
            expected_scores, order = _brute_force(matrix, q, k)
            assert len(found) == min(k, len(ids))
            # Same ranking: scores agree rank by rank, and every returned id carries its score.
            assert np.allclose(scores, expected_scores[order], atol=1e-5)
            by_id = dict(zip(ids.tolist(), expected_scores.tolist(), strict=True))
            assert np.allclose([by_id[int(i)] for i in found], scores, atol=1e-5)
            tie_free = np.abs(np.diff(expected_scores[order])) > 1e-5
            if tie_free.all():
                assert found.tolist() == ids[order].tolist()


@pytest.mark.parametrize("kind, settings, floor", [
    ("hnsw", VectorSettings(), 0.95),
    # The sample is tiny: 3 lists of ~50 vectors, two of them probed. At scale the
    # benchmark measures recall (0.98 at 100,000 passages).
    ("ivf", VectorSettings(ivf_probe_share=0.5), 0.9),
])
def test_approximate_index_finds_nearly_all_exact_neighbours(sample_vectors, encoder, kind, settings,
                                                             floor):
    flat, ids, matrix = sample_vectors
    ann = vectors.build_ann(flat, settings, kind)
    vectors.set_search_params(ann, settings)
    assert vectors.index_kind(ann) == kind
    questions = [item["question"] for item in load_qa(default_qa_path())]
    hits = total = 0
    for q in encoder.encode(questions):
        _, found = vectors.search(ann, q[None, :], 10)
        _, order = _brute_force(matrix, q, 10)
        hits += len(set(found.tolist()) & set(ids[order].tolist()))
        total += 10
    assert hits / total >= floor


def test_ivf_lists_grow_with_the_index_but_keep_enough_points_to_train():
    auto = VectorSettings()
    assert vectors.ivf_lists(100_000, auto) == 1265  # about 4 * sqrt(n)
    assert vectors.ivf_lists(1_000_000, auto) == 4000
    assert vectors.ivf_lists(148, auto) == 3  # at least 39 training points a list
    assert vectors.ivf_lists(100_000, VectorSettings(ivf_lists=256)) == 256
    assert vectors.probes(1265, 0.1) == 127
    assert vectors.probes(3, 0.1) == 1


def test_an_update_reuses_the_previous_ivf_lists_instead_of_retraining(sample_vectors, tmp_path):
    flat, _, _ = sample_vectors
    settings = VectorSettings(ivf_probe_share=0.5)
    first = vectors.build_ann(flat, settings, "ivf")
    vectors.save(first, tmp_path / vectors.ANN_FILE)
    again = vectors.build_ann(flat, settings, "ivf", base=tmp_path / vectors.ANN_FILE)

    def centroids(index: Any) -> np.ndarray:
        ivf: Any = faiss.downcast_index(index.index)
        return ivf.quantizer.reconstruct_n(0, ivf.nlist)

    assert np.array_equal(centroids(first), centroids(again))
    assert again.ntotal == flat.ntotal
    probe = vectors.flat_contents(flat)[1][:5]
    assert np.array_equal(first.search(probe, 5)[1], again.search(probe, 5)[1])
    # A configured list count, or a base of another kind, means training afresh.
    hnsw = vectors.build_ann(flat, VectorSettings(), "hnsw")
    vectors.save(hnsw, tmp_path / "hnsw.faiss")
    fresh = vectors.build_ann(flat, settings, "ivf", base=tmp_path / "hnsw.faiss")
    fresh_ivf: Any = faiss.downcast_index(fresh.index)
    assert fresh_ivf.nlist == vectors.ivf_lists(flat.ntotal, settings)
    assert vectors._reusable_centroids(tmp_path / vectors.ANN_FILE, flat.ntotal,
                                       VectorSettings(ivf_lists=2)) is None


@pytest.mark.asyncio
async def test_snapshot_with_an_ivf_index_is_served_from_it(sample_copy, encoder, settings_for,
                                                            sample_index):
    forced = settings_for(sample_copy)
    forced = forced.replace(vectors=VectorSettings(kind="ivf", ivf_probe_share=1.0))
    summary = await ingest([str(sample_dir())], forced, encoder, full=True)
    assert summary.published
    live = snapshot.current_path(sample_copy)
    assert (live / vectors.ANN_FILE).exists()
    assert json.loads((live / "manifest.json").read_text())["vector_index"] == "ivf"
    exact = await DocketIndex(settings_for(sample_index), encoder).open()
    approx = await DocketIndex(forced, encoder).open()
    try:
        assert vectors.index_kind(approx.snapshot.vectors) == "ivf"
        for question in ("How much will Anthropic pay authors?",
                         "What did Japan ask OpenAI about Sora 2?",
                         "Getty Images Stability AI ruling in London"):
            got, want = await approx.search(question), await exact.search(question)
            # Every list probed: the same answers as exact search, in the same order.
            assert [r.url for r in got.results] == [r.url for r in want.results]
            assert [r.snippet for r in got.results] == [r.snippet for r in want.results]
    finally:
        await approx.close()
        await exact.close()


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
    assert f"failed: {missing}: missing:" in done.stderr
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
