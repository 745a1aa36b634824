"""The write stage of an ingest: the collected documents that are new or changed are
chunked, embedded (the model loaded only when something needs embedding) and written
with their passages and vectors into the snapshot being built; stale articles go."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import sentvecs, store, vectors
from .chunk import Passage, chunk
from .dates import utc_now
from .dedupe import signature, story_for
from .embed import Encoder, export_pending, model_id
from .extract import Document
from .ingest_report import IngestSummary, ProgressFn
from .settings import Settings
from .sources import PRIORITY, Collected

EMBED_BATCH = 512  # passages per embedding call, bounding memory and giving progress
PREPARE_STAGE = "preparing the embedding model (first run only)"
LOAD_STAGE = "loading the embedding model"


EncoderSource = Encoder | Callable[[], Encoder]


class LazyEncoder:
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


@dataclass
class Changes:
    """Whether the write stage changed the snapshot, and its flat vector index after it."""

    any: bool
    flat: Any


async def apply_changes(st: store.Store, collected: Collected,
                        existing: dict[str, tuple[int, str, str]],
                        known_sources: dict[str, tuple[str, list[str]]], settings: Settings,
                        lazy: LazyEncoder,
                        flat: Any, summary: IngestSummary, sent_path: Path, *, prune: bool,
                        progress: ProgressFn | None) -> Changes:
    """Write the new and changed documents of `collected`, drop the stale (and with
    prune, the gone) articles, and record the sources' fingerprints; counts in summary."""
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
    now = utc_now()
    if progress and total:
        progress("embedding", 0, total)
    # Articles are written in embedding batches: one transaction, one encode call each.
    batch: list[tuple[Document, str, int | None, list[Passage]]] = []
    batch_size = 0
    for item in chunked:
        batch.append(item)
        batch_size += len(item[3])
        if batch_size >= EMBED_BATCH:
            next_id = await write_batch(st, batch, next_id, now, lazy, flat, settings, summary,
                                        sent_path)
            done += batch_size
            batch, batch_size = [], 0
            if progress:
                progress("embedding", done, total)
    if batch:
        next_id = await write_batch(st, batch, next_id, now, lazy, flat, settings, summary,
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
    return Changes(any=bool(chunked or stale or fingerprints), flat=flat)


async def write_batch(st: store.Store, batch: list[tuple[Document, str, int | None, list[Passage]]],
                      next_id: int, now: str, lazy: LazyEncoder, flat: Any,
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
