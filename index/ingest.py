"""The ingest pipeline: sources -> documents -> passages -> vectors -> a published snapshot.

The stages: reading the sources (index.sources), writing what changed into the snapshot
being built (index.ingest_write), publishing it (index.snapshot); what an ingest reports
is in index.ingest_report."""

from __future__ import annotations

import asyncio
import logging
import shutil
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from . import casebook, sentvecs, snapshot, store, store_schema, vectors
from .dates import utc_now
from .extract import Document
from .feeds.config import feed_keywords, record_reads
from .feeds.state import StateError
from .ingest_report import IngestSummary, ProgressFn
from .ingest_write import EncoderSource, LazyEncoder, apply_changes
from .settings import Settings
from .sources import UrlRead, collect, is_url

log = logging.getLogger(__name__)


async def ingest(sources: Iterable[str], settings: Settings, encoder: EncoderSource, *,
                 full: bool = False, prune: bool = False,
                 progress: ProgressFn | None = None,
                 documents: Sequence[Document] = ()) -> IngestSummary:
    """Ingest sources (and documents read elsewhere, e.g. by the feed poller) into a new
    snapshot and publish it; see index.snapshot for the guarantees."""
    data_dir = settings.data_dir
    sources = list(sources)
    reads: dict[str, UrlRead] = {}
    keywords = await feed_keywords(settings, [s for s in sources if is_url(s)])
    with snapshot.ingest_lock(data_dir):
        summary = await _ingest_locked(sources, settings, LazyEncoder(encoder),
                                       full=full, prune=prune, progress=progress,
                                       documents=documents, reads=reads, keywords=keywords)
    # Feeds fetched here are polled feeds too: their health is what this fetch found.
    try:
        await record_reads(settings, reads, set(summary.new_urls))
    except (StateError, OSError) as exc:
        log.warning("feed health not recorded: %s", exc)
    return summary


async def _ingest_locked(sources: list[str], settings: Settings, lazy: LazyEncoder, *,
                         full: bool, prune: bool, progress: ProgressFn | None,
                         documents: Sequence[Document], reads: dict[str, UrlRead],
                         keywords: dict[str, list[str]]) -> IngestSummary:
    started = time.perf_counter()
    data_dir = settings.data_dir
    snapshot.clean_stale(data_dir)
    name = snapshot.new_name()
    building = snapshot.start_build(data_dir, name)
    summary = IngestSummary()
    try:
        base = None if full else _base_snapshot(data_dir)
        flat = None
        if base is not None:
            # Vectors of another model or backend must not be mixed into this one's.
            base_manifest = snapshot.read_manifest(base)
            snapshot.check_model(base_manifest, lazy.identity(settings),
                                 int(base_manifest.data["dimension"]))
            await asyncio.to_thread(shutil.copyfile, base / snapshot.DB_FILE, building / snapshot.DB_FILE)
            if (base / sentvecs.FILE).exists():
                await asyncio.to_thread(shutil.copyfile, base / sentvecs.FILE,
                                        building / sentvecs.FILE)
            flat = await asyncio.to_thread(vectors.load, base / vectors.FLAT_FILE)
        db = await store_schema.connect(building / snapshot.DB_FILE)
        st = store.Store(db)
        try:
            # A base snapshot of an older schema is republished in the new one.
            upgraded = await store_schema.migrate(db) < store_schema.SCHEMA_VERSION and base is not None
            known_sources = await st.source_hashes()
            existing = await st.article_hashes()
            reading = (lambda done, total: progress("reading sources", done, total)) \
                if progress else None
            collected = await collect(sources, settings, known_sources, set(existing),
                                      keywords=keywords, progress=reading)
            reads.update(collected.urls)
            for doc in documents:
                collected.add(doc)
            summary.sources_read = collected.read_sources + len(documents)
            summary.skipped = dict(collected.skipped)
            changed = await apply_changes(st, collected, existing, known_sources, settings,
                                          lazy, flat, summary, building / sentvecs.FILE,
                                          prune=prune, progress=progress)
            flat = changed.flat
            summary.model_seconds, summary.model_prepared = lazy.load_seconds, lazy.prepared
            run_started = utc_now()
            summary.seconds = time.perf_counter() - started
            summary.failed = len(collected.failures)
            summary.failures = [{"source": f.source, "reason": f.reason, "message": f.message}
                                for f in collected.failures]
            if not changed.any and (summary.all_failed or (not upgraded and base is not None)):
                # Nothing to publish: the live snapshot already holds this content (or,
                # when every source failed, there is no content to publish).
                summary.snapshot = base.name if base is not None else None
                return summary
            await st.refresh_term_docs()
            await st.record_run(run_started, utc_now(), summary.to_json())
            await st.commit()
            counts = await st.counts()
            found = await casebook.collect(
                st, (lambda done, total: progress("finding cases", done, total))
                if progress else None)
        finally:
            await st.close()
        await asyncio.to_thread(casebook.write, building, found)
        dimension = flat.d if flat is not None else lazy.get().dimension
        if flat is None:
            flat = vectors.new_flat(dimension)
        if progress:
            progress("writing index", 0, 0)
        await asyncio.to_thread(vectors.save, flat, building / vectors.FLAT_FILE)
        ann_kind = vectors.ann_kind(flat.ntotal, settings.vectors)
        if ann_kind:
            ann = await asyncio.to_thread(vectors.build_ann, flat, settings.vectors, ann_kind,
                                          base=vectors.ann_path(base) if base else None)
            await asyncio.to_thread(vectors.save, ann, building / vectors.ANN_FILE)
        if flat.ntotal != counts["passages"]:
            raise RuntimeError(f"vector count {flat.ntotal} != passage count {counts['passages']}")
        summary.seconds = time.perf_counter() - started
        info = {
            "snapshot": name, "model": lazy.identity(settings), "dimension": dimension,
            "articles": counts["articles"], "passages": counts["passages"],
            "stories": counts["stories"], "cases": len(found.cases), "built_at": utc_now(), "schema": store_schema.SCHEMA_VERSION,
            "sentence_vectors": sentvecs.rows_in(building / sentvecs.FILE, dimension),
            "vector_index": ann_kind or "flat",
            "versions": _versions(), "last_ingest": summary.to_json() | {"failures": summary.failures[:20]},
        }
        await asyncio.to_thread(snapshot.write_manifest, building, info)
        await asyncio.to_thread(snapshot.publish, data_dir, building, name)
        summary.snapshot = name
        summary.published = True
        snapshot.prune_old(data_dir, settings.keep_snapshots)
        return summary
    finally:
        if building.exists():
            shutil.rmtree(building, ignore_errors=True)


def _base_snapshot(data_dir: Path) -> Path | None:
    """The snapshot to build on: the live one, or the newest good one if it is damaged."""
    name = snapshot.current_name(data_dir)
    if name is None:
        return None
    live = snapshot.snapshots_dir(data_dir) / name
    try:
        snapshot.check_files(live, snapshot.read_manifest(live))
        return live
    except Exception as exc:
        log.error("live snapshot %s is damaged (%s); building on the newest good one", name, exc)
    good = snapshot.good_snapshots(data_dir)
    return good[0] if good else None


def _versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {}
    for pkg in ("docket", "faiss-cpu", "sentence-transformers", "torch", "trafilatura"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            out[pkg] = "unknown"
    return out
