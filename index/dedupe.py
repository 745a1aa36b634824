"""Near-duplicate detection: syndicated copies of one story share a story id.

MinHash over word 5-shingles estimates Jaccard similarity between article
texts; two articles published within a few days of each other whose estimate
clears the threshold are one story (`story_for`, at ingest).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import numpy as np
from datasketch import MinHash

from .extract import Document
from .settings import SearchSettings
from .text import words

if TYPE_CHECKING:
    from .store import Store

NUM_PERM = 64
SHINGLE = 5


def signature(text: str) -> bytes:
    tokens = words(text)
    mh = MinHash(num_perm=NUM_PERM, seed=7)
    shingles = {" ".join(tokens[i:i + SHINGLE]) for i in range(max(1, len(tokens) - SHINGLE + 1))}
    mh.update_batch([s.encode("utf-8") for s in shingles])
    return bytes(np.asarray(mh.hashvalues, dtype=np.uint64).tobytes())


def similarity(a: bytes, b: bytes) -> float:
    va = np.frombuffer(a, dtype=np.uint64)
    vb = np.frombuffer(b, dtype=np.uint64)
    if va.shape != vb.shape or not len(va):
        return 0.0
    return float(np.mean(va == vb))


async def story_for(store: Store, doc: Document, sig: bytes,
                    settings: SearchSettings) -> int | None:
    """The story id of an earlier near-duplicate of doc (MinHash `sig`), if there is one:
    among the articles published within the dedupe window of it (or undated, as it is)."""
    published = None
    if doc.published:
        day = dt.date.fromisoformat(doc.published)
        window = dt.timedelta(days=settings.dedupe_window_days)
        published = ((day - window).isoformat(), (day + window).isoformat())
    best: tuple[float, int] | None = None
    async for story, other in store.signatures(published=published, excluding=doc.url):
        sim = similarity(sig, other)
        if sim >= settings.dedupe_similarity and (best is None or sim > best[0]):
            best = (sim, story)
    return best[1] if best else None
