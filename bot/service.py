"""What Docket's commands do, without Discord: the cogs and the terminal both call this.

`DocketService` holds the collaborators built in `__main__` (the index, the feedback
store, the search limiter, the reindexer) and returns plain data that `render`
turns into embeds or text.
"""

from __future__ import annotations

import datetime as dt
import logging
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from index import (
    DocketIndex,
    Encoder,
    FeedRow,
    IndexNotReady,
    QueryError,
    Result,
    SearchResponse,
    Settings,
    configured_sources,
)

from .announce import Announcer
from .cooldowns import SearchLimiter
from .digests import Digester, DigestStore
from .feedback import DB_FILE, FeedbackStore
from .feeds import FeedDesk
from .reindex import Reindexer, ReindexRun
from .settings import BotSettings
from .subscriptions import Subscription, SubscriptionStore

log = logging.getLogger(__name__)


@dataclass
class SourcesReport:
    """Outlets and article counts; `configured` lists the configured sources, `feeds` the
    polled feeds with their health."""

    outlets: list[tuple[str, int]]
    articles: int
    configured: list[str]
    using_sample: bool
    feeds: list[FeedRow] = field(default_factory=list)


@dataclass
class StatusReport:
    articles: int
    passages: int
    stories: int
    snapshot: str
    built_at: str | None
    age_seconds: float | None
    model: str | None
    vector_index: str | None
    last_ingest: dict[str, Any] | None
    uptime_seconds: float
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    searches_measured: int
    reload_error: str | None
    reindex: str | None
    feedback: dict[str, int] = field(default_factory=dict)


def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile (0-100) by linear interpolation; None for no values."""
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[max(0, min(98, round(q) - 1))]


class DocketService:
    def __init__(self, settings: Settings, config: BotSettings, index: DocketIndex,
                 feedback: FeedbackStore, limiter: SearchLimiter, reindexer: Reindexer) -> None:
        self.settings = settings
        self.config = config
        self.index = index
        self.feedback = feedback
        self.limiter = limiter
        self.reindexer = reindexer
        self.started = time.monotonic()
        # Feeds and subscriptions: state.sqlite (shared with `index watch`) and bot.sqlite.
        self.feeds = FeedDesk(settings, config, index.encoder)
        self.subscriptions = SubscriptionStore(feedback.db)
        self.announcer = Announcer(config, index, self.feeds, self.subscriptions)
        self.digests = DigestStore(feedback.db)
        self.digester = Digester(index, self.digests)

    async def ask(self, question: str, *, offset: int = 0) -> SearchResponse:
        """Search; a question the index cannot search comes back with `error` set."""
        started = time.perf_counter()
        try:
            response = await self.index.search(question, k=self.settings.search.results,
                                               offset=offset)
        except QueryError as exc:
            return SearchResponse(query=question, abstained=False, results=[], error=str(exc))
        # Feeds the limiter's "try again in N s" estimate when searches queue up.
        spent = time.perf_counter() - started
        self.limiter.typical_search_s = 0.8 * self.limiter.typical_search_s + 0.2 * spent
        return response

    def index_age_s(self) -> float | None:
        """Seconds since the live snapshot was built (None when unknown)."""
        if not self.index.ready:
            return None
        built = self.index.snapshot.manifest.get("built_at")
        try:
            when = dt.datetime.fromisoformat(str(built))
        except ValueError:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        return (dt.datetime.now(dt.UTC) - when).total_seconds()

    async def remember(self, response: SearchResponse, *, offset: int, user_id: int | None,
                       channel_id: int | None, origin: str) -> int:
        """Store a shown answer (question, URLs) so its buttons and votes can find it."""
        return await self.feedback.record_answer(
            response.query, offset=offset, urls=[r.url for r in response.results],
            snapshot=response.snapshot, user_id=user_id, channel_id=channel_id, origin=origin)

    async def latest(self, topic: str | None = None, *, days: int | None = None,
                     count: int | None = None) -> list[Result]:
        return await self.index.latest(topic or None, days=days,
                                       count=count or self.config.latest_count)

    async def sources(self) -> SourcesReport:
        stats = await self.index.stats()
        configured = configured_sources(self.settings)
        feeds = await self.feeds.feeds()
        return SourcesReport(outlets=list(stats.outlets),
                             articles=stats.articles, configured=configured,
                             using_sample=not configured and not feeds, feeds=feeds)

    async def subscribe(self, channel_id: int, *, guild_id: int | None, topic: str | None,
                        user_id: int) -> bool:
        """Subscribe a channel to new stories (from now on); True when it is a new one."""
        cursor = await self.feeds.latest_announcement()
        return await self.subscriptions.subscribe(channel_id, guild_id=guild_id,
                                                  topic=(topic or "").strip() or None,
                                                  subscriber_id=user_id, cursor=cursor)

    async def notices_for(self, user_id: int) -> list[Subscription]:
        """Subscriptions of this user with failed posts they have not been told about."""
        return await self.subscriptions.pending_notices(user_id)

    async def status(self) -> StatusReport:
        stats = await self.index.stats()
        window = self.index.search_latencies_ms[-self.config.status_latency_window:]
        run = self.reindexer.current
        return StatusReport(
            articles=stats.articles, passages=stats.passages,
            stories=stats.stories, snapshot=stats.snapshot,
            built_at=stats.built_at, age_seconds=stats.age_seconds,
            model=stats.model, vector_index=stats.vector_index,
            last_ingest=stats.last_ingest,
            uptime_seconds=time.monotonic() - self.started,
            latency_p50_ms=percentile(window, 50), latency_p95_ms=percentile(window, 95),
            searches_measured=len(window), reload_error=stats.reload_error,
            reindex=run.line() if run is not None and run.running else None,
            feedback=await self.feedback.totals())

    def reindex(self, *, full: bool, by: str, by_id: int | None = None) -> ReindexRun:
        return self.reindexer.start(full=full, by=by, by_id=by_id)

    async def close(self) -> None:
        await self.reindexer.close()
        await self.feeds.close()
        await self.index.close()
        await self.feedback.close()


async def open_service(settings: Settings, config: BotSettings, encoder: Encoder, *,
                       feedback_path: Path | str | None = None,
                       missing_index_level: int = logging.WARNING) -> DocketService:
    """Build the service from settings: open the index (a missing one is not fatal: the
    reload loop picks up the first published snapshot; it is logged at
    `missing_index_level`), the feedback store and the limits."""
    index = DocketIndex(settings, encoder)
    try:
        await index.open()
    except IndexNotReady as exc:
        log.log(missing_index_level, "%s; answers start once a snapshot is published", exc)
    feedback = await FeedbackStore.open(
        feedback_path or config.state_path(settings.data_dir) / DB_FILE)
    limiter = SearchLimiter(rate=config.cooldown_rate, per=config.cooldown_per_s,
                            max_concurrent=config.max_concurrent_searches,
                            max_waiting=config.max_waiting_searches)
    reindexer = Reindexer(settings, encoder, index)
    return DocketService(settings, config, index, feedback, limiter, reindexer)
