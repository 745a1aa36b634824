"""FAISS vectors: vector id == passage id; inner product on unit vectors == cosine.

The canonical index is exact (IndexIDMap2 over IndexFlatIP) and supports
removal. Above a size threshold a snapshot also carries an HNSW index built from
it at publish time, which searchers load instead.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from .settings import VectorSettings

log = logging.getLogger(__name__)

FLAT_FILE = "vectors.faiss"
ANN_FILE = "vectors.hnsw.faiss"


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


def wants_ann(count: int, settings: VectorSettings) -> bool:
    if settings.kind == "flat":
        return False
    if settings.kind == "hnsw":
        return True
    return count >= settings.hnsw_threshold


def build_hnsw(flat: Any, settings: VectorSettings) -> Any:
    """An HNSW index over the same vectors and ids as `flat`."""
    ids, vectors = flat_contents(flat)
    hnsw = faiss.IndexHNSWFlat(flat.d, settings.hnsw_m, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = settings.hnsw_ef_construction
    index = faiss.IndexIDMap2(hnsw)
    index.add_with_ids(vectors, ids)
    return index


def set_search_params(index: Any, settings: VectorSettings) -> None:
    inner = faiss.downcast_index(index.index) if hasattr(index, "index") else index
    if isinstance(inner, faiss.IndexHNSW):
        inner.hnsw.efSearch = settings.hnsw_ef_search


def search(index: Any, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-k (scores, ids) for one query vector; ids of -1 are dropped."""
    if index.ntotal == 0:
        return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
    scores, ids = index.search(np.ascontiguousarray(query, dtype=np.float32), min(k, index.ntotal))
    keep = ids[0] >= 0
    return scores[0][keep], ids[0][keep]
