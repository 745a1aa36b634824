"""Deep checks of a published snapshot, for `python -m index verify`."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np

from . import snapshot, store, vectors
from .errors import SnapshotError


def verify(path: Path) -> dict[str, int | str]:
    """Raise SnapshotError with the reason when anything is wrong; else return counts."""
    manifest = snapshot.read_manifest(path)
    snapshot.check_files(path, manifest)
    db_path = path / snapshot.DB_FILE
    try:
        con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        try:
            result = con.execute("PRAGMA integrity_check").fetchone()
            if not result or result[0] != "ok":
                raise SnapshotError(f"{db_path}: integrity check failed: {result}")
            version = con.execute("PRAGMA user_version").fetchone()[0]
            if version not in store.READABLE_SCHEMAS:
                raise SnapshotError(f"{db_path}: schema {version}, expected {store.SCHEMA_VERSION}")
            ids = np.array([r[0] for r in con.execute("SELECT id FROM passages ORDER BY id")],
                           dtype=np.int64)
            articles = con.execute("SELECT count(*) FROM articles").fetchone()[0]
            bad = con.execute(
                "SELECT count(*) FROM passages p JOIN articles a ON a.id = p.article_id "
                "WHERE p.start < 0 OR p.end > length(a.text) OR p.start >= p.end").fetchone()[0]
            if bad:
                raise SnapshotError(f"{db_path}: {bad} passages point outside their article")
            fts = con.execute("SELECT count(*) FROM passages_fts").fetchone()[0]
            if fts != len(ids):
                raise SnapshotError(f"{db_path}: {fts} full-text rows for {len(ids)} passages")
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        raise SnapshotError(f"{db_path}: {exc}") from exc
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
