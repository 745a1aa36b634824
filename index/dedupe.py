"""Near-duplicate detection: syndicated copies of one story share a story id.

MinHash over word 5-shingles estimates Jaccard similarity between article
texts; two articles published within a few days of each other whose estimate
clears the threshold are one story.
"""

from __future__ import annotations

import numpy as np
from datasketch import MinHash

from .text import words

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
