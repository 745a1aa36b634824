"""FAISS vectors: vector id == passage id; inner product on unit vectors == cosine.

The canonical index is exact (IndexIDMap2 over IndexFlatIP) and supports
removal. Above a size threshold a snapshot also carries an approximate index built
from it at publish time, which searchers load instead: IVF by default (k-means lists,
a share of them probed per query), or HNSW when configured.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from .settings import VectorSettings

log = logging.getLogger(__name__)

FLAT_FILE = "vectors.faiss"
ANN_FILE = "vectors.ann.faiss"
OLD_ANN_FILES = ("vectors.hnsw.faiss",)  # written by earlier versions; still loaded
IVF_MIN_POINTS = 39  # FAISS's minimum training points per list


def new_flat(dim: int) -> Any:
    return faiss.IndexIDMap2(faiss.IndexFlatIP(dim))


def load(path: Path) -> Any:
    return faiss.read_index(str(path))


def save(index: Any, path: Path) -> None:
    faiss.write_index(index, str(path))


def add(index: Any, ids: np.ndarray, vectors: np.ndarray) -> None:
    if len(ids):
        index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32),
                           np.ascontiguousarray(ids, dtype=np.int64))


def remove(index: Any, ids: list[int]) -> int:
    if not ids:
        return 0
    return int(index.remove_ids(np.asarray(ids, dtype=np.int64)))


def flat_contents(index: Any) -> tuple[np.ndarray, np.ndarray]:
    """All (ids, vectors) of an IndexIDMap2 over a flat index."""
    n = index.ntotal
    ids = faiss.vector_to_array(index.id_map).astype(np.int64)
    inner = faiss.downcast_index(index.index)
    vectors = inner.reconstruct_n(0, n) if n else np.zeros((0, index.d), dtype=np.float32)
    return ids, vectors


def ann_path(snapshot_dir: Path) -> Path | None:
    """The snapshot's approximate index file, if it has one."""
    for name in (ANN_FILE, *OLD_ANN_FILES):
        if (snapshot_dir / name).exists():
            return snapshot_dir / name
    return None


def ann_kind(count: int, settings: VectorSettings) -> str | None:
    """Which approximate index a snapshot of `count` vectors carries ("ivf", "hnsw"), or None."""
    if settings.kind == "flat" or count == 0:
        return None
    if settings.kind in ("hnsw", "ivf"):
        return settings.kind
    return "ivf" if count >= settings.ann_threshold else None


def build_ann(flat: Any, settings: VectorSettings, kind: str, *, base: Path | None = None) -> Any:
    """The approximate index of `kind` over flat's vectors. An IVF index reuses the
    k-means lists of the IVF file at `base` (the previous snapshot's) when their number
    still suits the index's size, so a small update does not retrain."""
    if kind == "hnsw":
        return build_hnsw(flat, settings)
    return build_ivf(flat, settings, centroids=_reusable_centroids(base, flat.ntotal, settings))


def build_hnsw(flat: Any, settings: VectorSettings) -> Any:
    """An HNSW index over the same vectors and ids as `flat`."""
    ids, vectors = flat_contents(flat)
    hnsw = faiss.IndexHNSWFlat(flat.d, settings.hnsw_m, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = settings.hnsw_ef_construction
    index = faiss.IndexIDMap2(hnsw)
    index.add_with_ids(vectors, ids)
    return index


def ivf_lists(count: int, settings: VectorSettings) -> int:
    """Number of k-means lists: configured, or about 4 * sqrt(count)."""
    wanted = settings.ivf_lists or round(4 * math.sqrt(count))
    return max(1, min(wanted, count // IVF_MIN_POINTS))


def build_ivf(flat: Any, settings: VectorSettings, *, centroids: np.ndarray | None = None) -> Any:
    """An IVF index (exact vectors in k-means lists) over the same vectors and ids as
    `flat`; its lists are trained here unless `centroids` are given."""
    ids, vectors = flat_contents(flat)
    nlist = len(centroids) if centroids is not None else ivf_lists(len(ids), settings)
    quantizer = faiss.IndexFlatIP(flat.d)
    ivf = faiss.IndexIVFFlat(quantizer, flat.d, nlist, faiss.METRIC_INNER_PRODUCT)
    if centroids is not None:
        quantizer.add(centroids)
        ivf.is_trained = True
    else:
        ivf.cp.seed = 1234  # the same vectors always give the same lists
        ivf.train(vectors)
    index = faiss.IndexIDMap2(ivf)
    index.add_with_ids(vectors, ids)
    ivf.make_direct_map()  # lets search rebuild a stored vector by id (reconstruct)
    return index


def _reusable_centroids(base: Path | None, count: int, settings: VectorSettings) -> np.ndarray | None:
    """The list centroids of the IVF index at `base`, if it has one whose list count is
    within a factor of two of what `count` vectors call for."""
    if base is None or settings.ivf_lists:
        return None
    try:
        old = load(base)
    except RuntimeError:
        log.warning("%s: unreadable; training new IVF lists", base)
        return None
    inner = inner_index(old)
    if not isinstance(inner, faiss.IndexIVF) or inner.d != old.d:
        return None
    wanted = ivf_lists(count, settings)
    if not wanted / 2 <= inner.nlist <= wanted * 2:
        return None
    return np.asarray(inner.quantizer.reconstruct_n(0, inner.nlist), dtype=np.float32)


def inner_index(index: Any) -> Any:
    """The index inside an IndexIDMap2 wrapper (or the index itself), as its own type."""
    return faiss.downcast_index(index.index) if hasattr(index, "index") else index


def set_search_params(index: Any, settings: VectorSettings) -> None:
    inner = inner_index(index)
    if isinstance(inner, faiss.IndexHNSW):
        inner.hnsw.efSearch = settings.hnsw_ef_search
    elif isinstance(inner, faiss.IndexIVF):
        inner.nprobe = probes(inner.nlist, settings.ivf_probe_share)


def probes(nlist: int, share: float) -> int:
    return max(1, min(nlist, math.ceil(share * nlist)))


def index_kind(index: Any) -> str:
    inner = inner_index(index)
    if isinstance(inner, faiss.IndexHNSW):
        return "hnsw"
    if isinstance(inner, faiss.IndexIVF):
        return "ivf"
    return "flat"


def search(index: Any, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-k (scores, ids) for one query vector; ids of -1 are dropped."""
    if index.ntotal == 0:
        return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
    # One query gains nothing from OpenMP threads and pays for their start-up and
    # contention (exact search over 100,000 vectors: 7.2 ms p50 on 2 threads, 5.1 on
    # one). The setting is per calling thread, so ingest elsewhere keeps its threads.
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        scores, ids = index.search(np.ascontiguousarray(query, dtype=np.float32),
                                   min(k, index.ntotal))
    finally:
        faiss.omp_set_num_threads(threads)
    keep = ids[0] >= 0
    return scores[0][keep], ids[0][keep]
