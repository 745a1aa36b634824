"""Index snapshots: immutable directories published by an atomic pointer switch.

    data_dir/
      CURRENT                  name of the live snapshot (replaced with os.replace)
      ingest.lock              flock held by the one running ingest
      snapshots/<name>/        manifest.json, docket.sqlite, vectors.faiss[, vectors.ann.faiss], cases.json
      snapshots/.tmp-<name>/   a snapshot being built; removed by the next ingest

A crash at any moment leaves CURRENT pointing at a complete snapshot: the new
directory is fully written and fsynced before the pointer moves. The flock
dies with its process, so a killed ingest never blocks the next one.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import logging
import os
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import IndexNotReady, IngestBusy, SnapshotError

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
DB_FILE = "docket.sqlite"
FORMAT_VERSION = 1


def snapshots_dir(data_dir: Path) -> Path:
    return data_dir / "snapshots"


def current_name(data_dir: Path) -> str | None:
    try:
        name = (data_dir / "CURRENT").read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return name or None


def current_path(data_dir: Path) -> Path:
    name = current_name(data_dir)
    if name is None:
        raise IndexNotReady(f"no index in {data_dir}: run `python -m index ingest --sample` first")
    return snapshots_dir(data_dir) / name


def new_name() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)


def sha256_file(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    with path.open("rb") as fh:
        os.fsync(fh.fileno())


@dataclass
class Manifest:
    data: dict[str, Any]

    @property
    def name(self) -> str:
        return str(self.data["snapshot"])

    @property
    def files(self) -> dict[str, dict[str, Any]]:
        return dict(self.data["files"])


def read_manifest(directory: Path) -> Manifest:
    path = directory / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SnapshotError(f"{path}: manifest missing") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SnapshotError(f"{path}: manifest unreadable ({exc})") from exc
    required = {"snapshot", "format", "model", "dimension", "files", "articles", "passages"}
    if not isinstance(data, dict) or not required <= set(data):
        raise SnapshotError(f"{path}: manifest lacks {sorted(required - set(data or {}))}")
    if data["format"] != FORMAT_VERSION:
        raise SnapshotError(f"{path}: snapshot format {data['format']} is not {FORMAT_VERSION}")
    return Manifest(data)


def check_files(directory: Path, manifest: Manifest, *, checksums: bool = True) -> None:
    """Raise SnapshotError naming the first file that disagrees with the manifest."""
    for filename, meta in manifest.files.items():
        path = directory / filename
        if not path.is_file():
            raise SnapshotError(f"{path}: file missing")
        size = path.stat().st_size
        if size != meta["size"]:
            raise SnapshotError(f"{path}: size {size} does not match manifest ({meta['size']})")
        if checksums and sha256_file(path) != meta["sha256"]:
            raise SnapshotError(f"{path}: checksum does not match manifest")


def check_model(manifest: Manifest, model: str, dimension: int) -> None:
    if manifest.data["model"] != model or int(manifest.data["dimension"]) != dimension:
        raise SnapshotError(
            f"snapshot {manifest.name} was built with {manifest.data['model']} "
            f"({manifest.data['dimension']} dims), but the configured model is {model} "
            f"({dimension} dims): rebuild with `python -m index ingest --full`")


def write_manifest(directory: Path, info: dict[str, Any]) -> Manifest:
    files = {}
    for path in sorted(directory.iterdir()):
        if path.name == MANIFEST or not path.is_file():
            continue
        _fsync_file(path)
        files[path.name] = {"size": path.stat().st_size, "sha256": sha256_file(path)}
    data = {"format": FORMAT_VERSION, **info, "files": files}
    tmp = directory / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True), encoding="utf-8")
    _fsync_file(tmp)
    os.replace(tmp, directory / MANIFEST)
    return Manifest(data)


def publish(data_dir: Path, building: Path, name: str) -> Path:
    """Move a finished build into place and point CURRENT at it, atomically."""
    final = snapshots_dir(data_dir) / name
    os.replace(building, final)
    _fsync_dir(final.parent)
    pointer = data_dir / "CURRENT.tmp"
    pointer.write_text(name + "\n", encoding="utf-8")
    _fsync_file(pointer)
    os.replace(pointer, data_dir / "CURRENT")
    _fsync_dir(data_dir)
    return final


def start_build(data_dir: Path, name: str) -> Path:
    building = snapshots_dir(data_dir) / f".tmp-{name}"
    building.mkdir(parents=True)
    return building


def clean_stale(data_dir: Path) -> None:
    """Remove half-built snapshots left by a crashed ingest (call with the lock held)."""
    root = snapshots_dir(data_dir)
    if not root.is_dir():
        return
    for path in root.iterdir():
        if path.name.startswith(".tmp-"):
            log.info("removing unfinished snapshot %s", path.name)
            shutil.rmtree(path, ignore_errors=True)
    for leftover in (data_dir / "CURRENT.tmp",):
        leftover.unlink(missing_ok=True)


def prune_old(data_dir: Path, keep: int) -> None:
    """Keep the live snapshot and the newest `keep - 1` others (readers may still use them)."""
    root = snapshots_dir(data_dir)
    live = current_name(data_dir)
    names = sorted((p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")),
                   reverse=True)
    kept = 0
    for name in names:
        if name == live:
            continue
        kept += 1
        if kept >= max(keep, 1):
            shutil.rmtree(root / name, ignore_errors=True)


def good_snapshots(data_dir: Path) -> list[Path]:
    """Published snapshots whose files match their manifests, newest first."""
    root = snapshots_dir(data_dir)
    if not root.is_dir():
        return []
    out = []
    for path in sorted(root.iterdir(), reverse=True):
        if not path.is_dir() or path.name.startswith("."):
            continue
        try:
            check_files(path, read_manifest(path))
        except SnapshotError as exc:
            log.warning("skipping snapshot %s: %s", path.name, exc)
            continue
        out.append(path)
    return out


@contextlib.contextmanager
def ingest_lock(data_dir: Path) -> Iterator[None]:
    """Hold the single-writer lock; raise IngestBusy when another ingest runs."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "ingest.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise IngestBusy(f"another ingest is running in {data_dir}") from exc
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        yield
    finally:
        os.close(fd)  # closing releases the flock
