"""The feeds as the bot manages them, without Discord: polling, health, /feeds add|remove|enable.

Feed health and the announcements live in the index's `state.sqlite` (see
`index.feeds.state`); `python -m index watch` and the bot share it. The bot polls on its
own task loop when `[bot] poll_feeds` is on; each poll runs in a daemon thread with
its own event loop and connection, like a reindex, so that fetching, parsing and
embedding never stall the gateway.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from index import (
    FEED_STATE_FILE,
    ConfigError,
    Encoder,
    Feed,
    FeedPoller,
    FeedRow,
    FeedState,
    Fetcher,
    PollReport,
    Settings,
    SourceError,
    configured_feeds,
    merge_listing,
    parse_feed,
)

from .settings import BotSettings
from .threads import in_daemon_thread

log = logging.getLogger(__name__)

PREVIEW_ITEMS = 5


@dataclass
class FeedPreview:
    """What one fetch of a feed found: its title and first items."""

    url: str
    final_url: str
    feed: Feed
    items: list[tuple[str, str, str | None]] = field(default_factory=list)  # title, link, date


class FeedDesk:
    """Feed polling and management for the bot; `state()` is the bot loop's connection."""

    def __init__(self, settings: Settings, config: BotSettings, encoder: Encoder) -> None:
        self.settings = settings
        self.config = config
        self.encoder = encoder
        self._state: FeedState | None = None
        self._state_lock = asyncio.Lock()
        self._synced = False
        # Configured feeds removed here: left out of the listing until the bot restarts
        # (when the feeds file adds them back), as /feeds remove tells its user.
        self._removed: set[str] = set()
        self.polls = 0
        self.last_report: PollReport | None = None

    def has_state(self) -> bool:
        """Whether state.sqlite exists (reading health never creates it)."""
        return (self.settings.data_dir / FEED_STATE_FILE).is_file()

    async def state(self) -> FeedState:
        """The bot loop's connection to state.sqlite, opened (and created) on first use."""
        async with self._state_lock:
            if self._state is None:
                self._state = await FeedState.open(self.settings.data_dir)
            return self._state

    # -- polling -----------------------------------------------------------------------

    async def poll(self) -> PollReport | None:
        """Poll the feeds that are due (config feeds are added on the first poll)."""
        if not self.config.poll_feeds:
            return None
        report = await in_daemon_thread(self._poll_in_thread, name="docket-feeds")
        self.polls += 1
        self.last_report = report
        if report.feeds:
            log.info("%s", report.line())
        return report

    async def _poll_in_thread(self) -> PollReport:
        state = await FeedState.open(self.settings.data_dir)
        try:
            poller = FeedPoller(self.settings, state, self.encoder)
            if not self._synced:
                count = await poller.sync_config()
                self._synced = True
                log.info("%d feeds from the feeds file", count)
            return await poller.poll()
        finally:
            await state.close()

    # -- health and management ---------------------------------------------------------

    async def feeds(self) -> list[FeedRow]:
        """Every feed with its health: the configured ones from the start (never fetched
        until something polls them), and those added since. Never creates state.sqlite."""
        rows = await (await self.state()).feeds() if self.has_state() else []
        try:
            configured = configured_feeds(self.settings)
        except ConfigError as exc:
            log.warning("feeds file unreadable: %s", exc)
            configured = []
        return merge_listing(rows, [c for c in configured if c.url not in self._removed])

    async def latest_announcement(self) -> int:
        """The newest announcement's id (0 when none): where a new subscription starts."""
        if not self.has_state():
            return 0
        return await (await self.state()).last_announcement_id()

    async def announcements_after(self, last_id: int, limit: int = 200) -> list[dict[str, Any]]:
        if not self.has_state():
            return []
        return await (await self.state()).announcements_after(last_id, limit)

    async def preview(self, url: str) -> FeedPreview:
        """Fetch a feed once (address guard, limits and all) and parse it; SourceError if it
        cannot be fetched or is not an RSS or Atom feed."""
        url = url.strip()
        if not url.lower().startswith(("http://", "https://")):
            raise SourceError("bad_url", "a feed URL starts with http:// or https://")
        async with Fetcher(self.settings.fetch) as fetcher:
            fetched = await fetcher.get(url)
        parsed = await asyncio.to_thread(parse_feed, fetched.body, source=url,
                                         max_items=self.settings.fetch.max_items_per_feed)
        items = [(i.title or i.link or "(untitled)", i.link, i.published)
                 for i in parsed.items[:PREVIEW_ITEMS]]
        return FeedPreview(url=url, final_url=fetched.url, feed=parsed, items=items)

    async def add(self, url: str, *, interval_minutes: int | None, keywords: list[str],
                  added_by: str) -> tuple[FeedRow, bool]:
        """Add (or update) a feed; (its row, whether it is new). Its first poll is its baseline."""
        state = await self.state()
        existed = await state.feed(url) is not None
        interval = interval_minutes * 60 if interval_minutes else self.settings.fetch.default_interval_s
        await state.upsert_feed(url, interval_s=interval, keywords=keywords, origin="discord",
                                added_by=added_by)
        row = await state.feed(url)
        assert row is not None
        self._removed.discard(url)
        return row, not existed

    async def remove(self, url: str) -> FeedRow | None:
        """Remove a feed and its item memory; the removed row, or None if there was none."""
        if not self.has_state():
            return None
        state = await self.state()
        row = await state.feed(url)
        if row is not None:
            await state.remove_feed(url)
            self._removed.add(url)
        return row

    async def enable(self, url: str) -> FeedRow | None:
        """Re-enable a feed (failures reset, polled on the next tick); None if unknown."""
        if not self.has_state():
            return None
        state = await self.state()
        if not await state.set_enabled(url, True):
            return None
        return await state.feed(url)

    async def close(self) -> None:
        if self._state is not None:
            await self._state.close()
            self._state = None
