"""New stories to subscribed channels, without Discord: what to post where, and when.

After each feed tick, the announcements the poller wrote (new or updated article URLs,
never a feed's first run) are matched against each subscribed channel, in order, from
the channel's cursor:

- a story already posted to the channel, or a syndicated copy of one (same story in the
  index), is skipped: each story reaches a channel once;
- a story that does not match the channel's topic is skipped;
- a channel gets at most `posts_per_minute` stories a minute; the rest wait;
- a post Discord refuses (no permission, unknown channel) is counted against the
  subscription, which is turned off after `subscription_max_failures` in a row.

The `Poster` (the Discord side, in `bot.client`) formats and sends one story.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from index import ArticleRow, DocketIndex, LoadedSnapshot

from .feeds import FeedDesk
from .settings import BotSettings
from .subscriptions import Subscription, SubscriptionStore

log = logging.getLogger(__name__)

# An announced URL missing from the live snapshot this long (its snapshot was refused, or
# the article was removed) is skipped rather than holding up the channel's queue.
MISSING_GRACE = dt.timedelta(hours=1)
LEDE_CHARS = 320


class PostRefused(Exception):
    """Discord will not take a message in that channel (missing permission, unknown channel)."""


class PostFailed(Exception):
    """A passing failure (server error, timeout): the story is tried again on the next tick."""


@dataclass
class Story:
    """One announced article as the live snapshot holds it."""

    url: str
    title: str
    outlet: str
    published: str | None
    lede: str
    text: str
    article_id: int
    urls: set[str]  # this article and its syndicated copies
    also: list[tuple[str, str]] = field(default_factory=list)  # (outlet, url) of the copies
    vectors: np.ndarray | None = None  # unit passage vectors, loaded for topic matching


class Poster(Protocol):
    async def post(self, channel_id: int, story: Story, kind: str) -> int:
        """Send one story; the message id. PostRefused or PostFailed when it could not."""
        ...


@dataclass
class DeliveryReport:
    posted: list[tuple[int, str]] = field(default_factory=list)  # (channel, url)
    refused: list[tuple[int, str]] = field(default_factory=list)  # (channel, error)
    disabled: list[int] = field(default_factory=list)
    waiting: int = 0  # announcements left for a later tick (rate limit, not yet indexed)


def topic_terms(topic: str) -> list[str]:
    """The comma-separated parts of a topic, each matched as whole words."""
    return [t.strip() for t in topic.split(",") if t.strip()]


def keyword_match(topic: str, text: str) -> bool:
    """Whether one of the topic's terms appears in the text as whole words (any case)."""
    for term in topic_terms(topic):
        pattern = r"(?<!\w)" + r"\s+".join(re.escape(w) for w in term.split()) + r"(?!\w)"
        if re.search(pattern, text, flags=re.IGNORECASE):
            return True
    return False


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _when(value: object) -> dt.datetime:
    try:
        when = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return _utc_now()
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


class Announcer:
    def __init__(self, config: BotSettings, index: DocketIndex, feeds: FeedDesk,
                 store: SubscriptionStore, clock: Callable[[], dt.datetime] = _utc_now) -> None:
        self.config = config
        self.index = index
        self.feeds = feeds
        self.store = store
        self.clock = clock
        self._lock = asyncio.Lock()

    async def deliver(self, poster: Poster) -> DeliveryReport:
        """Post what each subscribed channel has not seen yet, within its rate limit."""
        report = DeliveryReport()
        async with self._lock:
            subs = await self.store.active()
            if not subs or not self.index.ready or not self.feeds.has_state():
                return report
            snap = self.index.snapshot
            announcements = await self.feeds.announcements_after(min(s.cursor for s in subs),
                                                                 limit=500)
            stories: dict[str, Story | None] = {}
            topics: dict[str, np.ndarray] = {}
            for sub in subs:
                queue = [a for a in announcements if int(a["id"]) > sub.cursor]
                if queue:
                    await self._deliver_to(sub, queue, snap, stories, topics, poster, report)
        for channel, url in report.posted:
            log.info("posted %s to channel %s", url, channel)
        return report

    async def _deliver_to(self, sub: Subscription, queue: list[dict[str, Any]],
                          snap: LoadedSnapshot, stories: dict[str, Story | None],
                          topics: dict[str, np.ndarray], poster: Poster,
                          report: DeliveryReport) -> None:
        now = self.clock()
        budget = self.config.posts_per_minute - await self.store.posts_since(
            sub.channel_id, now - dt.timedelta(minutes=1))
        for position, ann in enumerate(queue):
            ann_id, url, kind = int(ann["id"]), str(ann["url"]), str(ann["kind"])
            if url not in stories:
                stories[url] = await self._story(snap, url)
            story = stories[url]
            if story is None:
                if now - _when(ann["created_at"]) > MISSING_GRACE:
                    log.warning("announced %s is not in snapshot %s; skipped", url, snap.name)
                    await self.store.advance(sub.channel_id, ann_id)
                    continue
                report.waiting += len(queue) - position  # not in the live snapshot yet
                return
            if (await self.store.posted_any(sub.channel_id, story.urls)
                    or not await self._matches(sub.topic, story, snap, topics)):
                await self.store.advance(sub.channel_id, ann_id)
                continue
            if budget <= 0:
                report.waiting += len(queue) - position
                return
            before = (await self.store.get(sub.channel_id) or sub).cursor
            await self.store.claim(sub.channel_id, story.url, kind=kind, announcement_id=ann_id,
                                   now=now)
            try:
                message_id = await poster.post(sub.channel_id, story, kind)
            except PostRefused as exc:
                await self.store.unclaim(sub.channel_id, story.url, cursor=before)
                after = await self.store.record_failure(
                    sub.channel_id, str(exc), max_failures=self.config.subscription_max_failures)
                report.refused.append((sub.channel_id, str(exc)))
                if after is not None and not after.enabled:
                    report.disabled.append(sub.channel_id)
                    log.warning("subscription of channel %s turned off after %d failed posts: %s",
                                sub.channel_id, after.failures, exc)
                else:
                    log.info("could not post to channel %s: %s", sub.channel_id, exc)
                report.waiting += len(queue) - position
                return
            except PostFailed as exc:
                await self.store.unclaim(sub.channel_id, story.url, cursor=before)
                log.warning("posting to channel %s failed, retrying later: %s", sub.channel_id, exc)
                report.waiting += len(queue) - position
                return
            await self.store.sent(sub.channel_id, story.url, message_id)
            report.posted.append((sub.channel_id, story.url))
            budget -= 1

    async def _story(self, snap: LoadedSnapshot, url: str) -> Story | None:
        article = await snap.store.article_by_url(url)
        if article is None:
            return None
        others = (await snap.store.also_reported([article]))[article.id]
        return Story(url=article.url, title=article.title, outlet=article.outlet,
                     published=article.published, lede=await self._lede(snap, article),
                     text=article.text, article_id=article.id,
                     urls={article.url, *(m.url for m in others)},
                     also=[(m.outlet, m.url) for m in others])

    @staticmethod
    async def _lede(snap: LoadedSnapshot, article: ArticleRow) -> str:
        """The article's first sentences, verbatim, up to about LEDE_CHARS."""
        first = await snap.store.first_passage(article.id)
        spans = list(first["sentences"]) if first else []
        if not spans:
            return " ".join(article.text[:LEDE_CHARS].split())
        start, end = spans[0]
        for _, e in spans[1:]:
            if e - start > LEDE_CHARS:
                break
            end = e
        return " ".join(article.text[start:end].split())

    async def _matches(self, topic: str | None, story: Story, snap: LoadedSnapshot,
                       topics: dict[str, np.ndarray]) -> bool:
        """No topic: everything. Else the topic's words, or a passage close enough in meaning."""
        if not topic:
            return True
        if keyword_match(topic, f"{story.title}\n{story.text}"):
            return True
        if topic not in topics:
            topics[topic] = (await asyncio.to_thread(self.index.encoder.encode_query, topic))[0]
        if story.vectors is None:
            ids = await snap.store.passage_ids([story.article_id])
            found = await asyncio.to_thread(snap.reconstruct, ids)
            story.vectors = (np.stack(list(found.values())) if found
                             else np.zeros((0, len(topics[topic])), dtype=np.float32))
        if not len(story.vectors):
            return False
        # Unit vectors on both sides: the inner product is the cosine similarity.
        best = float(np.max(story.vectors @ topics[topic]))
        return best >= self.config.topic_min_similarity
