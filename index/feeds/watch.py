"""Keep the index fresh: poll feeds on their intervals, politely, and record their health.

One poll: conditional GET (ETag / If-Modified-Since) -> skip an unchanged body by
hash -> parse -> new or changed items (see FeedState.seen) -> full text from the
item or the linked page -> one ingest for all feeds polled -> announcements for
stories from feeds past their first (baseline) run.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..errors import SourceError
from ..extract import (
    Document,
    extract_html,
    feed_item_document,
    html_fragment_text,
    mentions_keyword,
    parse_feed,
)
from ..fetch import Fetcher
from ..ingest import ingest
from ..ingest_report import IngestSummary
from ..ingest_write import EncoderSource
from ..settings import Settings
from ..urls import canonical_url
from .config import sync_config_feeds
from .state import FeedRow, FeedState, backoff_s

log = logging.getLogger(__name__)


@dataclass
class FeedResult:
    url: str
    status: str  # ok, not_modified, unchanged, or a failure reason
    new_items: int = 0
    failed_items: list[str] = field(default_factory=list)
    disabled: bool = False


@dataclass
class PollReport:
    feeds: list[FeedResult] = field(default_factory=list)
    ingest: IngestSummary | None = None
    announced: int = 0

    def line(self) -> str:
        ok = sum(1 for f in self.feeds if f.status in {"ok", "not_modified", "unchanged"})
        new = sum(f.new_items for f in self.feeds)
        return (f"polled {len(self.feeds)} feeds ({ok} ok, {len(self.feeds) - ok} failed), "
                f"{new} new or changed items, {self.announced} announced")


def _utc(now: dt.datetime | None = None) -> dt.datetime:
    return now or dt.datetime.now(dt.UTC)


def _iso(t: dt.datetime) -> str:
    return t.isoformat(timespec="seconds")


class FeedPoller:
    """Polls the feeds in FeedState; the bot runs it in a task loop, `index watch` alone."""

    def __init__(self, settings: Settings, state: FeedState, encoder: EncoderSource,
                 clock: Callable[[], dt.datetime] = _utc) -> None:
        self.settings = settings
        self.state = state
        self.encoder = encoder
        self.clock = clock
        self._lock = asyncio.Lock()

    async def sync_config(self) -> int:
        """Add the feeds of config/feeds.toml to the state (existing health is kept)."""
        return await sync_config_feeds(self.state, self.settings)

    async def due(self) -> list[FeedRow]:
        now = _iso(self.clock())
        return [f for f in await self.state.feeds()
                if f.enabled and (f.next_fetch is None or f.next_fetch <= now)]

    async def poll(self, *, force: bool = False) -> PollReport:
        """Poll every due feed (all enabled feeds when forced), then ingest what is new."""
        async with self._lock:
            feeds = [f for f in await self.state.feeds() if f.enabled] if force else await self.due()
            report = PollReport()
            docs: list[Document] = []
            pending: list[tuple[FeedRow, dict[str, Any], Document]] = []
            # The health of feeds with new items is written only once their items are in
            # the index: should the ingest fail (or be busy), their validators and baseline
            # flag stay as they were, so the next poll fetches the items again instead of
            # getting a 304 and losing them (or announcing a first run's items).
            deferred: dict[str, dict[str, Any]] = {}
            async with Fetcher(self.settings.fetch) as fetcher:
                for feed in feeds:
                    result = await self._poll_feed(fetcher, feed, pending, deferred)
                    report.feeds.append(result)
            docs = [doc for _, _, doc in pending]
            if docs:
                report.ingest = await ingest([], self.settings, self.encoder, documents=docs)
                for url, success in deferred.items():
                    await self.state.record_success(url, **success)
                new = set(report.ingest.new_urls)
                updated = set(report.ingest.updated_urls)
                entries = []
                for feed, item, doc in pending:
                    await self.state.remember(feed.url, guid=item["guid"], link=item["link"],
                                              content_hash=item["hash"], article_url=doc.url)
                    kind = "new" if doc.url in new else "updated" if doc.url in updated else None
                    if kind and feed.baseline_done:
                        entries.append((doc.url, kind, feed.url))
                await self.state.commit()
                # One announcement per story URL, whichever feeds carried it.
                unique = list({url: (url, kind, f) for url, kind, f in entries}.values())
                await self.state.announce(unique)
                report.announced = len(unique)
            return report

    async def _poll_feed(self, fetcher: Fetcher, feed: FeedRow,
                         pending: list[tuple[FeedRow, dict[str, Any], Document]],
                         deferred: dict[str, dict[str, Any]]) -> FeedResult:
        cfg = self.settings.fetch
        now = self.clock()
        next_ok = _iso(now + dt.timedelta(seconds=feed.interval_s))
        try:
            fetched = await fetcher.get(feed.url, etag=feed.etag, last_modified=feed.last_modified)
            if fetched.not_modified:
                await self.state.record_success(feed.url, status="not_modified", etag=None,
                                                last_modified=None, body_hash=None, title=None,
                                                new_items=0, next_fetch=next_ok)
                return FeedResult(feed.url, "not_modified")
            body_hash = hashlib.sha256(fetched.body).hexdigest()
            if body_hash == feed.body_hash:
                await self.state.record_success(feed.url, status="unchanged", etag=fetched.etag,
                                                last_modified=fetched.last_modified,
                                                body_hash=body_hash, title=None, new_items=0,
                                                next_fetch=next_ok)
                return FeedResult(feed.url, "unchanged")
            parsed = await asyncio.to_thread(parse_feed, fetched.body, source=feed.url,
                                             max_items=cfg.max_items_per_feed)
        except SourceError as exc:
            return await self._failed(feed, exc.reason, str(exc))
        result = FeedResult(feed.url, "ok")
        oldest = (now - dt.timedelta(days=cfg.max_item_age_days)).date().isoformat()
        keywords = [k.lower() for k in feed.keywords]
        for item in parsed.items:
            if item.published and item.published < oldest:
                continue
            text = html_fragment_text(item.html)
            if keywords and not mentions_keyword(item.title, text, keywords):
                continue
            digest = hashlib.sha256(f"{item.title}\n{text}".encode()).hexdigest()
            link = canonical_url(item.link) if item.link else None
            seen, changed = await self.state.seen(feed.url, guid=item.guid or None, link=link,
                                                  content_hash=digest)
            if seen and not changed:
                continue
            try:
                if item.full_text:
                    doc = feed_item_document(item, parsed, source=feed.url)
                elif item.link:
                    page = await fetcher.get(item.link)
                    doc = await asyncio.to_thread(extract_html, page.body, source=item.link,
                                                  url_hint=page.url)
                    doc.published = doc.published or item.published
                else:
                    continue
            except SourceError as exc:
                result.failed_items.append(f"{item.link or item.guid}: {exc.reason}")
                continue
            pending.append((feed, {"guid": item.guid or None, "link": link, "hash": digest}, doc))
            result.new_items += 1
        success: dict[str, Any] = {
            "status": "ok", "etag": fetched.etag, "last_modified": fetched.last_modified,
            "body_hash": body_hash, "title": parsed.title, "new_items": result.new_items,
            "next_fetch": next_ok}
        if result.new_items:
            deferred[feed.url] = success
        else:
            await self.state.record_success(feed.url, **success)
        return result

    async def _failed(self, feed: FeedRow, reason: str, message: str) -> FeedResult:
        cfg = self.settings.fetch
        backoff = backoff_s(feed.interval_s, feed.consecutive_failures, cfg.max_backoff_s)
        row = await self.state.record_failure(
            feed.url, reason=reason, next_fetch=_iso(self.clock() + dt.timedelta(seconds=backoff)),
            disable_after=cfg.max_failures)
        disabled = bool(row and not row.enabled)
        # The message names the feed (see Fetcher.get).
        log.warning("feed failed: %s%s", message if feed.url in message else f"{feed.url}: {message}",
                    "; disabled" if disabled else "")
        return FeedResult(feed.url, reason, disabled=disabled)

    async def run(self, stop: asyncio.Event, *, tick_s: float = 10.0) -> None:
        """Poll due feeds until stop is set."""
        while not stop.is_set():
            try:
                report = await self.poll()
                if report.feeds:
                    log.info("%s", report.line())
            except Exception:
                log.exception("feed poll failed")
            try:
                await asyncio.wait_for(stop.wait(), timeout=tick_s)
            except TimeoutError:
                pass
