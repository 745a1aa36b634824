"""Feed health and item memory, in the data directory's `state.sqlite`.

Snapshots hold what is searchable and are immutable; this database holds what
changes on every poll: each feed's validators (ETag, Last-Modified, body hash),
its health, the items already seen, and the stories announced after each refresh
(the bot posts those to subscribed channels).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiosqlite

from ..dates import utc_now

STATE_FILE = "state.sqlite"

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE feeds (
        url TEXT PRIMARY KEY,
        title TEXT NOT NULL DEFAULT '',
        interval_s INTEGER NOT NULL,
        keywords TEXT NOT NULL DEFAULT '[]',
        enabled INTEGER NOT NULL DEFAULT 1,
        disabled_reason TEXT,
        origin TEXT NOT NULL DEFAULT 'config',
        added_at TEXT NOT NULL,
        added_by TEXT,
        etag TEXT,
        last_modified TEXT,
        body_hash TEXT,
        last_fetch TEXT,
        last_success TEXT,
        last_status TEXT,
        last_new_item TEXT,
        consecutive_failures INTEGER NOT NULL DEFAULT 0,
        next_fetch TEXT,
        baseline_done INTEGER NOT NULL DEFAULT 0,
        articles INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE items (
        feed_url TEXT NOT NULL,
        guid TEXT,
        link TEXT,
        content_hash TEXT,
        article_url TEXT,
        first_seen TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX items_guid ON items(feed_url, guid);
    CREATE INDEX items_link ON items(feed_url, link);
    CREATE INDEX items_hash ON items(feed_url, content_hash);
    CREATE TABLE announcements (
        id INTEGER PRIMARY KEY,
        url TEXT NOT NULL,
        kind TEXT NOT NULL,          -- new or updated
        feed_url TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    """,
)


# What a state database that cannot be read or written raises.
StateError = sqlite3.Error


async def _wal(db: aiosqlite.Connection, attempts: int = 100) -> None:
    """Switch to WAL; SQLite answers "locked" at once (no busy wait) while another
    connection creates the same new file, so try again for a few seconds."""
    for attempt in range(attempts):
        try:
            await db.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == attempts - 1:
                await db.close()
                raise
            await asyncio.sleep(0.05)


async def _version(db: aiosqlite.Connection) -> int:
    async with db.execute("PRAGMA user_version") as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


@dataclass
class FeedRow:
    url: str
    title: str
    interval_s: int
    keywords: list[str]
    enabled: bool
    disabled_reason: str | None
    origin: str
    etag: str | None
    last_modified: str | None
    body_hash: str | None
    last_fetch: str | None
    last_success: str | None
    last_status: str | None
    last_new_item: str | None
    consecutive_failures: int
    next_fetch: str | None
    baseline_done: bool
    articles: int
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_row(cls, r: aiosqlite.Row) -> FeedRow:
        return cls(url=r["url"], title=r["title"], interval_s=r["interval_s"],
                   keywords=json.loads(r["keywords"]), enabled=bool(r["enabled"]),
                   disabled_reason=r["disabled_reason"], origin=r["origin"], etag=r["etag"],
                   last_modified=r["last_modified"], body_hash=r["body_hash"],
                   last_fetch=r["last_fetch"], last_success=r["last_success"],
                   last_status=r["last_status"], last_new_item=r["last_new_item"],
                   consecutive_failures=r["consecutive_failures"], next_fetch=r["next_fetch"],
                   baseline_done=bool(r["baseline_done"]), articles=r["articles"])

    @classmethod
    def unfetched(cls, url: str, *, title: str, interval_s: int, keywords: list[str]) -> FeedRow:
        """A configured feed that nothing has fetched yet."""
        return cls(url=url, title=title, interval_s=interval_s, keywords=keywords, enabled=True,
                   disabled_reason=None, origin="config", etag=None, last_modified=None,
                   body_hash=None, last_fetch=None, last_success=None, last_status=None,
                   last_new_item=None, consecutive_failures=0, next_fetch=None,
                   baseline_done=False, articles=0)

    @property
    def health(self) -> str:
        """The feed's one state: disabled, failing, never fetched or ok."""
        if not self.enabled:
            return "disabled"
        if self.consecutive_failures:
            return "failing"
        if self.last_fetch is None:
            return "never fetched"
        return "ok"

    @property
    def failures_in_a_row(self) -> str:
        n = self.consecutive_failures
        return f"{n} failure{'s' if n != 1 else ''} in a row"

    def health_text(self) -> str:
        """The state in words: "ok", "never fetched", "failing: 2 failures in a row (http_500);
        backing off", "disabled: http_500 after 5 failures in a row"."""
        health = self.health
        if health == "disabled":
            after = f" after {self.failures_in_a_row}" if self.consecutive_failures else ""
            return f"disabled: {self.disabled_reason or 'turned off'}{after}"
        if health == "failing":
            return f"failing: {self.failures_in_a_row} ({self.last_status or '?'}); backing off"
        return health

    def to_json(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k != "extra"}
        out["health"] = self.health
        return out


def backoff_s(interval_s: int, consecutive_failures: int, max_backoff_s: int) -> int:
    """Seconds until the next try after one more failure: the interval, doubled per failure."""
    return int(min(interval_s * 2 ** (consecutive_failures + 1), max_backoff_s))


class FeedState:
    """Async access to state.sqlite; open with `await FeedState.open(data_dir)`."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self.db = db

    @classmethod
    async def open(cls, data_dir: Path) -> FeedState:
        await asyncio.to_thread(data_dir.mkdir, parents=True, exist_ok=True)
        db = await aiosqlite.connect(data_dir / STATE_FILE, timeout=30)
        db.row_factory = aiosqlite.Row
        await db.execute("PRAGMA busy_timeout = 30000")
        await _wal(db)
        for number in range(await _version(db), len(MIGRATIONS)):
            # IMMEDIATE: of two processes (the bot and `index watch`) opening a new file at
            # once, the second waits here, then finds the tables made and skips the step.
            try:
                await db.executescript(f"BEGIN IMMEDIATE; {MIGRATIONS[number]} "
                                       f"PRAGMA user_version = {number + 1}; COMMIT;")
            except sqlite3.OperationalError:
                if db.in_transaction:
                    await db.rollback()
                if await _version(db) <= number:
                    await db.close()
                    raise
        return cls(db)

    async def close(self) -> None:
        await self.db.close()

    async def upsert_feed(self, url: str, *, interval_s: int, keywords: list[str],
                          origin: str = "config", added_by: str | None = None,
                          title: str = "") -> None:
        """Add a feed, or update its interval and keywords. `title` names a new feed until
        the feed's own title is known."""
        await self.db.execute(
            "INSERT INTO feeds(url, title, interval_s, keywords, origin, added_at, added_by) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(url) DO UPDATE SET "
            "interval_s = excluded.interval_s, keywords = excluded.keywords",
            (url, title, interval_s, json.dumps(keywords), origin, utc_now(), added_by))
        await self.db.commit()

    async def remove_feed(self, url: str) -> bool:
        cur = await self.db.execute("DELETE FROM feeds WHERE url = ?", (url,))
        await self.db.execute("DELETE FROM items WHERE feed_url = ?", (url,))
        await self.db.commit()
        return cur.rowcount > 0

    async def set_enabled(self, url: str, enabled: bool, reason: str | None = None) -> bool:
        cur = await self.db.execute(
            "UPDATE feeds SET enabled = ?, disabled_reason = ?, consecutive_failures = "
            "CASE WHEN ? THEN 0 ELSE consecutive_failures END, next_fetch = NULL WHERE url = ?",
            (int(enabled), None if enabled else reason, int(enabled), url))
        await self.db.commit()
        return cur.rowcount > 0

    async def feeds(self) -> list[FeedRow]:
        async with self.db.execute("SELECT * FROM feeds ORDER BY url") as cur:
            return [FeedRow.from_row(r) async for r in cur]

    async def feed(self, url: str) -> FeedRow | None:
        async with self.db.execute("SELECT * FROM feeds WHERE url = ?", (url,)) as cur:
            row = await cur.fetchone()
        return FeedRow.from_row(row) if row else None

    async def record_success(self, url: str, *, status: str, etag: str | None,
                             last_modified: str | None, body_hash: str | None, title: str | None,
                             new_items: int, next_fetch: str) -> None:
        now = utc_now()
        await self.db.execute(
            "UPDATE feeds SET last_fetch = ?, last_success = ?, last_status = ?, "
            "etag = coalesce(?, etag), last_modified = coalesce(?, last_modified), "
            "body_hash = coalesce(?, body_hash), title = coalesce(nullif(?, ''), title), "
            "consecutive_failures = 0, next_fetch = ?, baseline_done = 1, "
            "last_new_item = CASE WHEN ? > 0 THEN ? ELSE last_new_item END, "
            "articles = articles + ? WHERE url = ?",
            (now, now, status, etag, last_modified, body_hash, title or "", next_fetch,
             new_items, now, new_items, url))
        await self.db.commit()

    async def record_failure(self, url: str, *, reason: str, next_fetch: str,
                             disable_after: int) -> FeedRow | None:
        await self.db.execute(
            "UPDATE feeds SET last_fetch = ?, last_status = ?, next_fetch = ?, "
            "consecutive_failures = consecutive_failures + 1 WHERE url = ?",
            (utc_now(), reason, next_fetch, url))
        await self.db.execute(
            "UPDATE feeds SET enabled = 0, disabled_reason = ? "
            "WHERE url = ? AND consecutive_failures >= ?", (reason, url, disable_after))
        await self.db.commit()
        return await self.feed(url)

    async def seen(self, feed_url: str, *, guid: str | None, link: str | None,
                   content_hash: str) -> tuple[bool, bool]:
        """(seen before, content changed since) for one feed item.

        An item is the same item when its GUID matches, or its link matches with the
        same content, or its content matches (a publisher that changes GUIDs or bumps
        dates does not make a new story). Items that only share a link, with other
        GUIDs and other content, are different items.
        """
        async with self.db.execute(
                "SELECT guid, link, content_hash FROM items WHERE feed_url = ? AND "
                "((guid IS NOT NULL AND guid = ?) OR (link = ? AND content_hash = ?) "
                "OR content_hash = ?) LIMIT 1",
                (feed_url, guid, link, content_hash, content_hash)) as cur:
            row = await cur.fetchone()
        if row is None:
            return False, False
        return True, row["content_hash"] != content_hash

    async def remember(self, feed_url: str, *, guid: str | None, link: str | None,
                       content_hash: str, article_url: str | None) -> None:
        now = utc_now()
        cur = await self.db.execute(
            "UPDATE items SET content_hash = ?, link = ?, article_url = ?, updated_at = ? "
            "WHERE feed_url = ? AND guid IS NOT NULL AND guid = ?",
            (content_hash, link, article_url, now, feed_url, guid))
        if cur.rowcount == 0:
            await self.db.execute(
                "INSERT INTO items(feed_url, guid, link, content_hash, article_url, first_seen, "
                "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (feed_url, guid, link, content_hash, article_url, now, now))

    async def announce(self, entries: list[tuple[str, str, str]]) -> None:
        """Queue (url, kind, feed_url) stories for subscribed channels."""
        await self.db.executemany(
            "INSERT INTO announcements(url, kind, feed_url, created_at) VALUES (?, ?, ?, ?)",
            [(u, k, f, utc_now()) for u, k, f in entries])
        await self.db.commit()

    async def last_announcement_id(self) -> int:
        """The newest announcement's id; 0 when there is none."""
        async with self.db.execute("SELECT coalesce(max(id), 0) FROM announcements") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def announcements_after(self, last_id: int, limit: int = 200) -> list[dict[str, Any]]:
        async with self.db.execute(
                "SELECT id, url, kind, feed_url, created_at FROM announcements WHERE id > ? "
                "ORDER BY id LIMIT ?", (last_id, limit)) as cur:
            return [dict(r) async for r in cur]

    async def commit(self) -> None:
        await self.db.commit()
