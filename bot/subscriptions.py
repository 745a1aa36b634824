"""Channel subscriptions in `bot.sqlite`: who subscribed which channel to what, each
channel's cursor into the index's announcements, and every story posted there.

The schema is migration 3 in `bot.feedback` (one file, one numbered scheme). Posting is
at most once: a story is claimed (cursor advanced, URL recorded) in one transaction
before it is sent, and the claim is undone only when Discord refused the message, so a
crash between the two can lose a post but never repeat one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import aiosqlite

_COLUMNS = ("channel_id, guild_id, topic, subscriber_id, cursor, enabled, disabled_reason, "
            "failures, last_error, notice_pending")


@dataclass(frozen=True)
class Subscription:
    channel_id: int
    guild_id: int | None
    topic: str | None
    subscriber_id: int
    cursor: int
    enabled: bool
    disabled_reason: str | None
    failures: int
    last_error: str | None
    notice_pending: bool

    @classmethod
    def from_row(cls, r: Any) -> Subscription:
        return cls(channel_id=int(r[0]), guild_id=None if r[1] is None else int(r[1]),
                   topic=r[2], subscriber_id=int(r[3]), cursor=int(r[4]), enabled=bool(r[5]),
                   disabled_reason=r[6], failures=int(r[7]), last_error=r[8],
                   notice_pending=bool(r[9]))


def _iso(when: dt.datetime | None = None) -> str:
    return (when or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")


class SubscriptionStore:
    """Queries over the subscription tables; shares the feedback store's connection."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self.db = db

    async def subscribe(self, channel_id: int, *, guild_id: int | None, topic: str | None,
                        subscriber_id: int, cursor: int) -> bool:
        """Subscribe a channel (or change its topic and re-enable it); True when it is new.

        A new subscription starts at `cursor` (the newest announcement), so it never
        receives the backlog; a renewed one keeps its cursor and its posting history.
        """
        async with self.db.execute("SELECT 1 FROM subscriptions WHERE channel_id = ?",
                                   (channel_id,)) as cur:
            existed = await cur.fetchone() is not None
        await self.db.execute(
            "INSERT INTO subscriptions(channel_id, guild_id, topic, subscriber_id, cursor, created) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(channel_id) DO UPDATE SET "
            "topic = excluded.topic, subscriber_id = excluded.subscriber_id, enabled = 1, "
            "disabled_reason = NULL, failures = 0, last_error = NULL, notice_pending = 0",
            (channel_id, guild_id, topic, subscriber_id, cursor, _iso()))
        await self.db.commit()
        return not existed

    async def unsubscribe(self, channel_id: int) -> bool:
        cur = await self.db.execute("DELETE FROM subscriptions WHERE channel_id = ?", (channel_id,))
        await self.db.commit()
        return cur.rowcount > 0

    async def get(self, channel_id: int) -> Subscription | None:
        async with self.db.execute(f"SELECT {_COLUMNS} FROM subscriptions WHERE channel_id = ?",
                                   (channel_id,)) as cur:
            row = await cur.fetchone()
        return Subscription.from_row(row) if row else None

    async def active(self) -> list[Subscription]:
        async with self.db.execute(f"SELECT {_COLUMNS} FROM subscriptions WHERE enabled = 1 "
                                   "ORDER BY channel_id") as cur:
            return [Subscription.from_row(r) async for r in cur]

    async def in_guild(self, guild_id: int) -> list[Subscription]:
        async with self.db.execute(f"SELECT {_COLUMNS} FROM subscriptions WHERE guild_id = ? "
                                   "ORDER BY channel_id", (guild_id,)) as cur:
            return [Subscription.from_row(r) async for r in cur]

    async def advance(self, channel_id: int, cursor: int) -> None:
        """Mark announcements up to `cursor` handled (skipped: no match, or already posted)."""
        await self.db.execute("UPDATE subscriptions SET cursor = max(cursor, ?) WHERE channel_id = ?",
                              (cursor, channel_id))
        await self.db.commit()

    async def posted_any(self, channel_id: int, urls: Iterable[str]) -> bool:
        """Whether any of these URLs (one story's copies) was already posted to the channel."""
        urls = list(dict.fromkeys(urls))
        if not urls:
            return False
        marks = ",".join("?" * len(urls))
        async with self.db.execute(
                f"SELECT 1 FROM subscription_posts WHERE channel_id = ? AND url IN ({marks}) LIMIT 1",
                (channel_id, *urls)) as cur:
            return await cur.fetchone() is not None

    async def posts_since(self, channel_id: int, since: dt.datetime) -> int:
        async with self.db.execute(
                "SELECT count(*) FROM subscription_posts WHERE channel_id = ? AND posted >= ? "
                "AND message_id IS NOT NULL", (channel_id, _iso(since))) as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def claim(self, channel_id: int, url: str, *, kind: str, announcement_id: int,
                    now: dt.datetime | None = None) -> None:
        """Record a story as posted and move the cursor past it, before sending it."""
        await self.db.execute(
            "INSERT OR IGNORE INTO subscription_posts(channel_id, url, kind, announcement_id, "
            "posted) VALUES (?, ?, ?, ?, ?)", (channel_id, url, kind, announcement_id, _iso(now)))
        await self.db.execute("UPDATE subscriptions SET cursor = max(cursor, ?) WHERE channel_id = ?",
                              (announcement_id, channel_id))
        await self.db.commit()

    async def sent(self, channel_id: int, url: str, message_id: int) -> None:
        """The claimed story reached the channel: keep its message id, reset the failures."""
        await self.db.execute("UPDATE subscription_posts SET message_id = ? WHERE channel_id = ? "
                              "AND url = ?", (message_id, channel_id, url))
        await self.db.execute("UPDATE subscriptions SET failures = 0, last_error = NULL, "
                              "last_post = ? WHERE channel_id = ?", (_iso(), channel_id))
        await self.db.commit()

    async def unclaim(self, channel_id: int, url: str, *, cursor: int) -> None:
        """Undo a claim whose message Discord refused: the story is tried again later."""
        await self.db.execute("DELETE FROM subscription_posts WHERE channel_id = ? AND url = ?",
                              (channel_id, url))
        await self.db.execute("UPDATE subscriptions SET cursor = ? WHERE channel_id = ?",
                              (cursor, channel_id))
        await self.db.commit()

    async def record_failure(self, channel_id: int, error: str, *,
                             max_failures: int) -> Subscription | None:
        """Count a failed post; the subscription is turned off after `max_failures` in a row."""
        await self.db.execute(
            "UPDATE subscriptions SET failures = failures + 1, last_error = ?, notice_pending = 1 "
            "WHERE channel_id = ?", (error, channel_id))
        await self.db.execute(
            "UPDATE subscriptions SET enabled = 0, disabled_reason = last_error "
            "WHERE channel_id = ? AND failures >= ?", (channel_id, max_failures))
        await self.db.commit()
        return await self.get(channel_id)

    async def pending_notices(self, subscriber_id: int) -> list[Subscription]:
        async with self.db.execute(f"SELECT {_COLUMNS} FROM subscriptions WHERE subscriber_id = ? "
                                   "AND notice_pending = 1 ORDER BY channel_id",
                                   (subscriber_id,)) as cur:
            return [Subscription.from_row(r) async for r in cur]

    async def noticed(self, channel_ids: Iterable[int]) -> None:
        ids = list(channel_ids)
        if not ids:
            return
        marks = ",".join("?" * len(ids))
        await self.db.execute(f"UPDATE subscriptions SET notice_pending = 0 WHERE channel_id IN "
                              f"({marks})", ids)
        await self.db.commit()
