"""The vector indexes: exact search against numpy, the approximate indexes' recall,
IVF list sizing and reuse, and a snapshot served from an IVF index."""

from __future__ import annotations

import json
from typing import Any

import faiss
import numpy as np
import pytest

from index import snapshot, vectors
from index.evaluate import default_qa_path, load_qa
from index.ingest import ingest
from index.service import DocketIndex
from index.settings import VectorSettings
from index.sources import sample_dir


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
