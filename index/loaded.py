"""One published snapshot held open read-only: its manifest, database, FAISS index and
sentence vectors, checked against each other and the configured model when opened."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import casebook, sentvecs, snapshot, store, vectors
from .errors import SnapshotError
from .results import IndexStats
from .settings import Settings


@dataclass
class LoadedSnapshot:
    """One published snapshot held open read-only. Never mutated; replaced whole on reload."""

    name: str
    path: Path
    manifest: dict[str, Any]
    store: store.Store
    vectors: Any  # a faiss index
    settings: Settings
    sentence_vectors: np.ndarray
    cases: casebook.Found = field(default_factory=lambda: casebook.Found([], {}))  # cases.json

    @property
    def passages(self) -> int:
        return int(self.vectors.ntotal)

    def reconstruct(self, ids: list[int]) -> dict[int, np.ndarray]:
        out = {}
        for pid in ids:
            try:
                out[pid] = np.asarray(self.vectors.reconstruct(int(pid)))
            except RuntimeError:  # not in the index
                continue
        return out

    async def stats(self) -> IndexStats:
        counts = await self.store.counts()
        built = self.manifest.get("built_at")
        age_s = None
        if built:
            age_s = (dt.datetime.now(dt.UTC) - dt.datetime.fromisoformat(built)).total_seconds()
        return IndexStats(
            articles=counts["articles"], passages=counts["passages"], stories=counts["stories"],
            snapshot=self.name, built_at=built, age_seconds=age_s,
            model=self.manifest.get("model"), vector_index=self.manifest.get("vector_index"),
            last_ingest=self.manifest.get("last_ingest"), outlets=await self.store.outlets())

    async def close(self) -> None:
        await self.store.close()


async def load_snapshot(path: Path, settings: Settings, *, model: str, dimension: int,
                        checksums: bool = True) -> LoadedSnapshot:
    """Open a snapshot after checking it against its manifest and the configured model."""
    manifest = await asyncio.to_thread(snapshot.read_manifest, path)
    snapshot.check_model(manifest, model, dimension)
    await asyncio.to_thread(snapshot.check_files, path, manifest, checksums=checksums)
    ann = vectors.ann_path(path)
    try:
        index = await asyncio.to_thread(vectors.load, ann or path / vectors.FLAT_FILE)
    except RuntimeError as exc:
        raise SnapshotError(f"{path / vectors.FLAT_FILE}: unreadable FAISS index ({exc})") from exc
    vectors.set_search_params(index, settings.vectors)
    if index.ntotal != manifest.data["passages"] or index.d != dimension:
        raise SnapshotError(f"{path}: FAISS holds {index.ntotal} vectors of {index.d} dims, "
                            f"manifest says {manifest.data['passages']} of {dimension}")
    st = await store.Store.open_published(path / snapshot.DB_FILE)
    sent = sentvecs.open_readonly(path / sentvecs.FILE, dimension)
    if len(sent) != manifest.data.get("sentence_vectors", 0):
        await st.close()
        raise SnapshotError(f"{path / sentvecs.FILE}: {len(sent)} sentence vectors, manifest says "
                            f"{manifest.data.get('sentence_vectors')}")
    try:
        cases = await asyncio.to_thread(casebook.read, path)
    except SnapshotError:
        await st.close()
        raise
    return LoadedSnapshot(name=manifest.name, path=path, manifest=manifest.data, store=st,
                          vectors=index, settings=settings, sentence_vectors=sent, cases=cases)
