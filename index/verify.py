"""Deep checks of a published snapshot, for `python -m index verify`."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import snapshot, store_schema, vectors
from .errors import SnapshotError


def verify(path: Path) -> dict[str, int | str]:
    """Raise SnapshotError with the reason when anything is wrong; else return counts."""
    manifest = snapshot.read_manifest(path)
    snapshot.check_files(path, manifest)
    checked = store_schema.check_database(path / snapshot.DB_FILE)
    ids = np.array(checked.passage_ids, dtype=np.int64)
    articles = checked.articles
    try:
        flat = vectors.load(path / vectors.FLAT_FILE)
    except RuntimeError as exc:
        raise SnapshotError(f"{path / vectors.FLAT_FILE}: unreadable ({exc})") from exc
    stored = np.sort(vectors.flat_contents(flat)[0])
    if not np.array_equal(stored, ids):
        raise SnapshotError(f"{path / vectors.FLAT_FILE}: vector ids do not match passage ids")
    if articles != manifest.data["articles"] or len(ids) != manifest.data["passages"]:
        raise SnapshotError(f"{path}: counts differ from manifest")
    return {"snapshot": manifest.name, "articles": int(articles), "passages": len(ids)}
