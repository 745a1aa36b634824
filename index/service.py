"""The index as the bot and the CLI use it: open, search, latest, stats, hot reload."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import time

from . import aliases as aliases_mod
from . import display, snapshot, trends
from . import search as search_mod
from .casebook import CaseBook
from .cases import Overrides, load_overrides
from .embed import Encoder
from .errors import IndexNotReady, SnapshotError
from .loaded import LoadedSnapshot, load_snapshot
from .rerank import Reranker, load_reranker
from .results import IndexStats, Result, SearchResponse
from .settings import Settings, config_file
from .spelling import Speller

log = logging.getLogger(__name__)


class DocketIndex:
    """A searchable index that follows the data directory's published snapshots."""

    def __init__(self, settings: Settings, encoder: Encoder) -> None:
        self.settings = settings
        self.encoder = encoder
        self._snap: LoadedSnapshot | None = None
        self._retired: list[tuple[float, LoadedSnapshot]] = []
        self._reload_lock = asyncio.Lock()
        self.last_reload_error: str | None = None
        self._refused: str | None = None  # a snapshot already refused is not re-checked
        self.search_latencies_ms: list[float] = []
        self.reranker: Reranker | None = None  # loaded by open() when [rerank] names a model
        self._rerank_tried = False  # a model that failed to load is reported once, not per open
        self.aliases = aliases_mod.Aliases()  # the domain thesaurus, read by open()
        self.speller: Speller | None = None  # the spelling dictionary, loaded by open()
        self._overrides: Overrides | None = None  # config/cases.toml, read by open()
        self._cases: tuple[str, CaseBook] | None = None  # (snapshot name, its cases)

    @property
    def cases(self) -> CaseBook:
        """The live snapshot's cases, as config/cases.toml corrects them."""
        snap = self.snapshot
        if self._cases is None or self._cases[0] != snap.name:
            self._cases = (snap.name, CaseBook.of(snap.cases, self._overrides))
        return self._cases[1]

    @property
    def snapshot(self) -> LoadedSnapshot:
        if self._snap is None:
            raise IndexNotReady("the index is not loaded yet")
        return self._snap

    @property
    def ready(self) -> bool:
        return self._snap is not None

    async def open(self) -> DocketIndex:
        """Load the live snapshot; IndexNotReady when there is none."""
        await self.reload_if_changed(force=True)
        if self.aliases.pattern is None:
            self.aliases = await asyncio.to_thread(aliases_mod.load, self.settings.search.aliases)
        if self.settings.search.spelling and self.speller is None:
            self.speller = await asyncio.to_thread(Speller)
        if self._overrides is None:
            path = config_file(self.settings.cases) if self.settings.cases else None
            self._overrides = (await asyncio.to_thread(load_overrides, path) if path
                               else Overrides())
        if self.settings.rerank.model and not self._rerank_tried:
            self._rerank_tried = True
            self.reranker = await asyncio.to_thread(load_reranker, self.settings.rerank)
        if self._snap is None:
            raise IndexNotReady(self.last_reload_error or
                                f"no index in {self.settings.data_dir}: run `python -m index ingest --sample`")
        return self

    async def reload_if_changed(self, *, force: bool = False) -> bool:
        """Swap to a newly published snapshot; a broken one is refused and the old kept."""
        async with self._reload_lock:
            name = snapshot.current_name(self.settings.data_dir)
            if name is None or (not force and self._snap is not None and self._snap.name == name):
                return False
            if self._snap is not None and self._snap.name == name:
                return False
            if name == self._refused and not force:
                return False
            path = snapshot.snapshots_dir(self.settings.data_dir) / name
            try:
                new = await load_snapshot(path, self.settings, model=self.encoder.name,
                                          dimension=self.encoder.dimension)
            except SnapshotError as exc:
                if self.last_reload_error != str(exc):
                    log.error("refusing snapshot %s: %s", name, exc)
                self.last_reload_error = str(exc)
                self._refused = name
                return False
            old, self._snap = self._snap, new
            self.last_reload_error = None
            self._refused = None
            log.info("serving snapshot %s (%d passages)", new.name, new.passages)
            if old is not None:
                # Searches still running on the old snapshot finish before it is closed.
                self._retired.append((time.monotonic(), old))
            await self._close_retired()
            return True

    async def _close_retired(self, grace_s: float = 30.0) -> None:
        keep = []
        for when, snap in self._retired:
            if time.monotonic() - when > grace_s:
                await snap.close()
            else:
                keep.append((when, snap))
        self._retired = keep

    async def search(self, question: str, *, k: int | None = None, offset: int = 0,
                     now: dt.date | None = None,
                     min_relevance: float | None = None) -> SearchResponse:
        snap = self.snapshot
        started = time.perf_counter()
        response = await search_mod.search(snap, self.encoder.encode_query, question,
                                           k=k or self.settings.search.results, offset=offset,
                                           now=now, min_relevance=min_relevance,
                                           reranker=self.reranker, aliases=self.aliases,
                                           speller=self.speller)
        self.search_latencies_ms = ([*self.search_latencies_ms, (time.perf_counter() - started) * 1000])[-100:]
        return response

    async def trend(self, topic: str | None = None, *, weeks: int = trends.DEFAULT_WEEKS,
                    now: dt.date | None = None) -> trends.Trend:
        """Stories per week (per month beyond a year), overall or on a topic matched as
        `latest` matches it. ValueError (one sentence) for weeks out of range."""
        weeks = trends.check_weeks(weeks)
        today = now or dt.datetime.now(dt.UTC).date()
        days = weeks * 7 + 31  # monthly buckets start on the 1st: a month more
        if topic and topic.strip():
            found = await self.latest(topic, days=days, count=10**6, now=today)
            dates = [_iso_date(r.published) for r in found]
        else:
            since = (today - dt.timedelta(days=days)).isoformat()
            rows = await self.snapshot.store.newest(since=since, until=today.isoformat(), limit=10**9)
            dates = [_iso_date(r.published) for r in rows]
        return trends.trend(dates, weeks=weeks, today=today, topic=topic.strip() if topic else None)

    async def latest(self, topic: str | None = None, *, days: int | None = None, count: int = 5,
                     now: dt.date | None = None) -> list[Result]:
        """The newest stories, newest first; on a topic when one is given."""
        snap = self.snapshot
        today = now or dt.datetime.now(dt.UTC).date()
        since = (today - dt.timedelta(days=days)).isoformat() if days else None
        if topic and topic.strip():
            # A topic is a word or two, not a question: its similarity to a matching
            # story is lower than a question's, so it has its own threshold.
            response = await search_mod.search(
                snap, self.encoder.encode_query, topic, k=50, now=today,
                min_relevance=self.settings.search.topic_min_relevance, aliases=self.aliases,
                speller=self.speller)
            if response.error:
                return []
            results = [r for r in response.results if not since or (r.published or "") >= since]
            results.sort(key=lambda r: r.published or "", reverse=True)
            results = results[:count]
            # "…" marks what a quote leaves out of its paragraph (display.omissions).
            texts = await snap.store.article_texts(r.article_id for r in results)
            for r in results:
                text = texts.get(r.article_id)
                if text is not None and text[r.snippet_start:].startswith(r.snippet):
                    r.leading_ellipsis, r.trailing_ellipsis = display.omissions(
                        text, r.snippet_start, r.snippet_start + len(r.snippet))
            return results
        rows = await snap.store.newest(since=since, until=today.isoformat(), limit=count)
        firsts = await snap.store.first_passages(row.id for row in rows)
        also = await snap.store.also_reported(rows)
        out = []
        for row in rows:
            first = firsts.get(row.id)
            lede = ""
            start = 0
            lead = tail = False
            if first and first["sentences"]:
                s, e = first["sentences"][0]
                lede, start = row.text[s:e], s
                lead, tail = display.omissions(row.text, s, e)
            others = also[row.id]
            out.append(Result(url=row.url, title=row.title, outlet=row.outlet,
                              published=row.published, snippet=lede, score=0.0, relevance=0.0,
                              also_reported_by=[m.url for m in others],
                              also_reported_by_outlets=[m.outlet for m in others],
                              article_id=row.id, passage_id=first["id"] if first else 0,
                              snippet_start=start, leading_ellipsis=lead,
                              trailing_ellipsis=tail))
        return out

    async def stats(self) -> IndexStats:
        stats = await self.snapshot.stats()
        return dataclasses.replace(stats, reload_error=self.last_reload_error)

    async def close(self) -> None:
        for _, snap in self._retired:
            await snap.close()
        self._retired = []
        if self._snap is not None:
            await self._snap.close()
            self._snap = None


def _iso_date(published: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(published[:10]) if published else None
    except ValueError:
        return None
