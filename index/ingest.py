"""The ingest pipeline: sources -> documents -> passages -> vectors -> a published snapshot."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import shutil
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import casebook, sentvecs, snapshot, store, store_schema, vectors
from .chunk import Passage, chunk
from .dedupe import signature, story_for
from .embed import Encoder, export_pending, model_id
from .extract import Document
from .feeds.config import feed_keywords, record_reads
from .feeds.state import StateError
from .settings import Settings
from .sources import PRIORITY, Collected, UrlRead, collect, is_url, skipped_words

log = logging.getLogger(__name__)

EMBED_BATCH = 512  # passages per embedding call, bounding memory and giving progress
# (stage, done, total): "reading sources" counts sources, "embedding" passages; the other
# stages have no counts (0, 0). index.progress shows it.
ProgressFn = Callable[[str, int, int], None]
PREPARE_STAGE = "preparing the embedding model (first run only)"
LOAD_STAGE = "loading the embedding model"


EXIT_OK, EXIT_PARTIAL, EXIT_ALL_FAILED = 0, 1, 3


@dataclass
class IngestSummary:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    failed: int = 0
    passages_embedded: int = 0
    seconds: float = 0.0
    snapshot: str | None = None
    published: bool = False
    failures: list[dict[str, str]] = field(default_factory=list)
    new_urls: list[str] = field(default_factory=list)
    updated_urls: list[str] = field(default_factory=list)
    sources_read: int = 0  # files, responses and documents read (or unchanged since last time)
    # Loading the embedding model during the run, and whether that meant preparing it for
    # this machine (the one-time ONNX export): not part of the embedding rate.
    model_seconds: float = 0.0
    model_prepared: bool = False
    skipped: dict[str, int] = field(default_factory=dict)  # feed items left out, by reason

    @property
    def all_failed(self) -> bool:
        """Nothing could be read: every source failed."""
        return self.failed > 0 and self.sources_read == 0

    @property
    def exit_code(self) -> int:
        """0 ok; 1 some sources failed and the rest was ingested; 3 every source failed."""
        if not self.failed:
            return EXIT_OK
        return EXIT_ALL_FAILED if self.all_failed else EXIT_PARTIAL

    @property
    def rate(self) -> float:
        """Passages embedded per second of the run, the time spent loading the model aside."""
        working = self.seconds - self.model_seconds
        return self.passages_embedded / working if working > 0 else 0.0

    def line(self) -> str:
        text = (f"articles: {self.new} new, {self.updated} updated, {self.unchanged} unchanged, "
                f"{self.removed} removed, {self.failed} failed; {self.passages_embedded} passages "
                f"embedded in {self.seconds:.1f}s ({self.rate:.0f}/s); "
                f"snapshot {self.snapshot or '-'}")
        notes = [skipped_words(reason, count) for reason, count in sorted(self.skipped.items())]
        if self.model_prepared:
            notes.append(f"the embedding model was prepared for this machine in "
                         f"{self.model_seconds:.0f}s (once; not counted in the rate)")
        if self.all_failed:
            notes.append("nothing was ingested: every source failed")
        return "; ".join([text, *notes])

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


EncoderSource = Encoder | Callable[[], Encoder]


class _LazyEncoder:
    """Load the model only when something needs embedding: an unchanged re-ingest never does."""

    def __init__(self, source: EncoderSource) -> None:
        self._source = source
        self._encoder: Encoder | None = source if isinstance(source, Encoder) else None
        self.load_seconds = 0.0
        self.prepared = False  # loading it exported the model first

    def get(self) -> Encoder:
        if self._encoder is None:
            assert callable(self._source)
            self._encoder = self._source()
        return self._encoder

    def load(self, settings: Settings, progress: ProgressFn | None) -> Encoder:
        """The encoder, loaded now if it is not yet (timed, and shown as its own stage:
        the first load on a machine prepares the model, which takes a minute or so)."""
        if self._encoder is not None:
            return self._encoder
        self.prepared = export_pending(settings.model)
        if progress:
            progress(PREPARE_STAGE if self.prepared else LOAD_STAGE, 0, 0)
        started = time.perf_counter()
        encoder = self.get()
        self.load_seconds = time.perf_counter() - started
        return encoder

    def identity(self, settings: Settings) -> str:
        """The model identity for the manifest: the given encoder's, else the configured one's."""
        return self._encoder.name if self._encoder is not None else model_id(settings.model)


def content_hash(doc: Document) -> str:
    h = hashlib.sha256()
    for part in (doc.title, doc.outlet, doc.published or "", doc.text):
        h.update(part.encode("utf-8"))
        h.update(b"\x1f")
    return h.hexdigest()


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


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
        summary = await _ingest_locked(sources, settings, _LazyEncoder(encoder),
                                       full=full, prune=prune, progress=progress,
                                       documents=documents, reads=reads, keywords=keywords)
    # Feeds fetched here are polled feeds too: their health is what this fetch found.
    try:
        await record_reads(settings, reads, set(summary.new_urls))
    except (StateError, OSError) as exc:
        log.warning("feed health not recorded: %s", exc)
    return summary


async def _ingest_locked(sources: list[str], settings: Settings, lazy: _LazyEncoder, *,
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
            changed = await _apply(st, collected, existing, known_sources, settings, lazy,
                                   flat, summary, building / sentvecs.FILE, prune=prune,
                                   progress=progress)
            flat = changed.flat
            summary.model_seconds, summary.model_prepared = lazy.load_seconds, lazy.prepared
            run_started = _now()
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
            await st.record_run(run_started, _now(), summary.to_json())
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
            "stories": counts["stories"], "cases": len(found.cases), "built_at": _now(), "schema": store_schema.SCHEMA_VERSION,
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


@dataclass
class _Changes:
    any: bool
    flat: Any


async def _apply(st: store.Store, collected: Collected,
                 existing: dict[str, tuple[int, str, str]],
                 known_sources: dict[str, tuple[str, list[str]]], settings: Settings,
                 lazy: _LazyEncoder,
                 flat: Any, summary: IngestSummary, sent_path: Path, *, prune: bool,
                 progress: ProgressFn | None) -> _Changes:
    todo: list[tuple[Document, str, int | None]] = []
    for url, doc in collected.documents.items():
        digest = content_hash(doc)
        old = existing.get(url)
        if old is None:
            todo.append((doc, digest, None))
        elif PRIORITY.get(old[2], 0) > PRIORITY.get(doc.kind, 0):
            # A page's own text outranks a feed's copy of it, across runs as within one.
            summary.unchanged += 1
        elif old[1] != digest:
            todo.append((doc, digest, old[0]))
        else:
            summary.unchanged += 1
    # Articles from sources that were skipped as unchanged count as unchanged too.
    summary.unchanged += len(collected.seen_urls - set(collected.documents)
                             - {u for u in collected.seen_urls if u not in existing})
    removed_ids: list[int] = []
    stale = [old_id for _, _, old_id in todo if old_id is not None]
    if prune:
        keep = collected.seen_urls | set(collected.documents)
        # A source that failed this time keeps its articles: pruning is for sources that
        # are gone, not for ones that are down.
        for failure in collected.failures:
            keep.update(known_sources.get(failure.source, ("", []))[1])
        gone = [aid for url, (aid, _, _) in existing.items() if url not in keep]
        summary.removed = len(gone)
        stale.extend(gone)
    await st.begin()
    if stale:
        removed_ids = await st.delete_articles(stale)
    chunked: list[tuple[Document, str, int | None, list[Passage]]] = []
    for doc, digest, old_id in todo:
        passages = chunk(doc.text, settings.chunk)
        if passages:
            chunked.append((doc, digest, old_id, passages))
        else:
            collected.fail(doc.source, "no_passages", f"{doc.url}: no sentences to index")
    total = sum(len(p) for *_, p in chunked)
    if chunked:
        lazy.load(settings, progress)
    if flat is None and (chunked or stale):
        flat = vectors.new_flat(lazy.get().dimension)
    if removed_ids:
        vectors.remove(flat, removed_ids)
    next_id = await st.last_passage_id() + 1
    done = 0
    now = _now()
    if progress and total:
        progress("embedding", 0, total)
    # Articles are written in embedding batches: one transaction, one encode call each.
    batch: list[tuple[Document, str, int | None, list[Passage]]] = []
    batch_size = 0
    for item in chunked:
        batch.append(item)
        batch_size += len(item[3])
        if batch_size >= EMBED_BATCH:
            next_id = await _write_batch(st, batch, next_id, now, lazy, flat, settings, summary,
                                         sent_path)
            done += batch_size
            batch, batch_size = [], 0
            if progress:
                progress("embedding", done, total)
    if batch:
        next_id = await _write_batch(st, batch, next_id, now, lazy, flat, settings, summary,
                                     sent_path)
        done += batch_size
        if progress:
            progress("embedding", done, total)
    await st.commit()
    # Source fingerprints: unchanged files are skipped wholesale next time.
    no_passages = {f.source for f in collected.failures if f.reason == "no_passages"}
    fingerprints = [(loc, h, urls) for loc, (h, urls) in collected.source_hashes.items()
                    if loc not in no_passages and known_sources.get(loc) != (h, urls)]
    if fingerprints:
        await st.begin()
        await st.save_source_hashes(fingerprints)
        await st.commit()
    summary.new = sum(1 for _, _, old, _ in chunked if old is None)
    summary.updated = sum(1 for _, _, old, _ in chunked if old is not None)
    summary.new_urls = [d.url for d, _, old, _ in chunked if old is None]
    summary.updated_urls = [d.url for d, _, old, _ in chunked if old is not None]
    return _Changes(any=bool(chunked or stale or fingerprints), flat=flat)


async def _write_batch(st: store.Store, batch: list[tuple[Document, str, int | None, list[Passage]]],
                       next_id: int, now: str, lazy: _LazyEncoder, flat: Any,
                       settings: Settings, summary: IngestSummary, sent_path: Path) -> int:
    """Embed and store one batch of articles in one transaction and one encode call.

    Each sentence is encoded once (passages overlap); a passage's vector is built
    from its sentences' vectors and its article's title (see sentvecs).
    """
    encoder = lazy.get()
    base_row = sentvecs.rows_in(sent_path, encoder.dimension)
    sentence_texts: list[str] = []
    titles: list[str] = []
    article_rows: list[list[int]] = []  # per doc: global row of each of its sentences
    for doc, _digest, _old, passages in batch:
        spans: dict[int, tuple[int, int]] = {}
        for p in passages:
            spans.update(zip(p.sentence_index, p.sentences, strict=True))
        rows = []
        for idx in sorted(spans):
            s, e = spans[idx]
            rows.append(base_row + len(sentence_texts))
            sentence_texts.append(doc.text[s:e])
        article_rows.append(rows)
        titles.append(doc.title)
    vecs = await asyncio.to_thread(encoder.encode, sentence_texts + titles)
    sent_vecs, title_vecs = vecs[:len(sentence_texts)], vecs[len(sentence_texts):]
    rows_out: list[store.NewPassage] = []
    ids: list[int] = []
    groups: list[list[int]] = []
    group_titles: list[int] = []
    for n, (doc, digest, _old_id, passages) in enumerate(batch):
        sig = await asyncio.to_thread(signature, doc.text)
        story_id = await story_for(st, doc, sig, settings.search)
        article_id = await st.add_article(
            url=doc.url, title=doc.title, outlet=doc.outlet, published=doc.published,
            text=doc.text, content_hash=digest, source=doc.source, kind=doc.kind,
            story_id=story_id, signature=sig, now=now)
        first_index = min(i for p in passages for i in p.sentence_index)
        for p in passages:
            pid = next_id
            next_id += 1
            rows = [article_rows[n][i - first_index] for i in p.sentence_index]
            rows_out.append(store.NewPassage(
                id=pid, article_id=article_id, ord=p.ord, start=p.start, end=p.end,
                sentences=p.sentences, sentence_rows=rows, body=p.text(doc.text), title=doc.title))
            ids.append(pid)
            groups.append([r - base_row for r in rows])
            group_titles.append(n)
    passage_vecs = sentvecs.passage_vectors(sent_vecs, groups, title_vecs[group_titles])
    await st.add_passages(rows_out)
    await asyncio.to_thread(sentvecs.append, sent_path, sent_vecs)
    vectors.add(flat, np.asarray(ids, dtype=np.int64), passage_vecs)
    summary.passages_embedded += len(ids)
    return next_id


def _versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {}
    for pkg in ("docket", "faiss-cpu", "sentence-transformers", "torch", "trafilatura"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            out[pkg] = "unknown"
    return out
