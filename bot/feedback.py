"""The bot's own SQLite file (`bot.sqlite` in the data dir): shown answers and 👍/👎 votes,
and channel subscriptions (their queries live in `bot.subscriptions`; the schema is here).

Separate from the index snapshots, which are read-only and replaced whole. Each
answer shown with buttons gets a row; the buttons' custom ids carry its id, so a
click works after a restart, and a vote is stored with the question and the URLs
that were on screen, for later evaluation. The schema grows by numbered
migrations tracked in `PRAGMA user_version`.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import aiosqlite

log = logging.getLogger(__name__)

DB_FILE = "bot.sqlite"

# Migration n brings the schema to user_version n. Append; never edit a shipped one.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE answers (
        id INTEGER PRIMARY KEY,
        question TEXT NOT NULL,
        page_offset INTEGER NOT NULL,
        urls TEXT NOT NULL,            -- JSON list of the result URLs shown, in order
        snapshot TEXT,
        user_id INTEGER,
        channel_id INTEGER,
        origin TEXT NOT NULL,          -- slash, chat, more, terminal
        created TEXT NOT NULL
    );
    """,
    """
    CREATE TABLE votes (
        answer_id INTEGER NOT NULL REFERENCES answers(id) ON DELETE CASCADE,
        user_id INTEGER NOT NULL,
        vote INTEGER NOT NULL CHECK (vote IN (-1, 1)),
        created TEXT NOT NULL,
        PRIMARY KEY (answer_id, user_id)
    );
    CREATE INDEX votes_by_time ON votes(created);
    """,
    """
    CREATE TABLE subscriptions (
        channel_id INTEGER PRIMARY KEY,
        guild_id INTEGER,
        topic TEXT,                    -- NULL: every story
        subscriber_id INTEGER NOT NULL,
        cursor INTEGER NOT NULL,       -- the last announcement (state.sqlite) handled here
        enabled INTEGER NOT NULL DEFAULT 1,
        disabled_reason TEXT,
        failures INTEGER NOT NULL DEFAULT 0,   -- failed posts in a row
        last_error TEXT,
        notice_pending INTEGER NOT NULL DEFAULT 0,  -- tell the subscriber on their next command
        created TEXT NOT NULL,
        last_post TEXT
    );
    CREATE INDEX subscriptions_by_subscriber ON subscriptions(subscriber_id, notice_pending);
    -- Every story URL posted to a channel: a story (or a syndicated copy of it) is posted
    -- to a channel once, across restarts and re-subscriptions.
    CREATE TABLE subscription_posts (
        channel_id INTEGER NOT NULL,
        url TEXT NOT NULL,
        kind TEXT NOT NULL,            -- new or updated
        announcement_id INTEGER NOT NULL,
        message_id INTEGER,
        posted TEXT NOT NULL,
        PRIMARY KEY (channel_id, url)
    );
    CREATE INDEX subscription_posts_by_time ON subscription_posts(channel_id, posted);
    """,
    """
    -- Weekly digests: one per channel, posted at weekday/hour (UTC). last_week is the
    -- digest week (its Monday, ISO) last claimed for posting: never posted twice.
    CREATE TABLE digests (
        channel_id INTEGER PRIMARY KEY,
        guild_id INTEGER,
        subscriber_id INTEGER NOT NULL,
        topic TEXT,
        weekday INTEGER NOT NULL,
        hour INTEGER NOT NULL,
        last_week TEXT NOT NULL,
        created TEXT NOT NULL
    );
    """,
)


@dataclass(frozen=True)
class Answer:
    id: int
    question: str
    offset: int
    urls: list[str]
    snapshot: str | None
    user_id: int | None


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


async def migrate(db: aiosqlite.Connection, path: Path | None = None) -> int:
    """Apply the migrations this file has not seen; returns the schema version.

    `path` names the file in the log; None (a throwaway database) logs nothing.
    """
    async with db.execute("PRAGMA user_version") as cur:
        row = await cur.fetchone()
    version = int(row[0]) if row else 0
    if version > len(MIGRATIONS):
        raise RuntimeError(f"{DB_FILE} has schema {version}, newer than this bot ({len(MIGRATIONS)})")
    for number, sql in enumerate(MIGRATIONS[version:], start=version + 1):
        await db.executescript(f"BEGIN;\n{sql}\nPRAGMA user_version = {number};\nCOMMIT;")
    if path is not None and version == 0:  # a new file is created, not upgraded
        log.info("created %s", path)
    elif path is not None and version < len(MIGRATIONS):
        log.info("%s: schema upgraded from %d to %d", path, version, len(MIGRATIONS))
    return len(MIGRATIONS)


class FeedbackStore:
    """Answers and votes in `bot.sqlite`; open with `await FeedbackStore.open(path)`."""

    def __init__(self, db: aiosqlite.Connection, path: Path | str) -> None:
        self.db = db
        self.path = path

    @classmethod
    async def open(cls, path: Path | str) -> FeedbackStore:
        """Open (creating and migrating) the store; ":memory:" for a throwaway one."""
        if isinstance(path, Path):
            path.parent.mkdir(parents=True, exist_ok=True)
        db = await aiosqlite.connect(path)
        try:
            if isinstance(path, Path):
                # WAL + NORMAL: no fsync per vote (a power cut may lose the last few votes,
                # never corrupt the file), so a burst of answers never queues behind the disk.
                await db.execute("PRAGMA journal_mode = WAL")
                await db.execute("PRAGMA synchronous = NORMAL")
            await db.execute("PRAGMA foreign_keys = ON")
            await migrate(db, path if isinstance(path, Path) else None)
        except BaseException:
            await db.close()
            raise
        return cls(db, path)

    async def record_answer(self, question: str, *, offset: int, urls: list[str],
                            snapshot: str | None, user_id: int | None,
                            channel_id: int | None, origin: str) -> int:
        cur = await self.db.execute(
            "INSERT INTO answers(question, page_offset, urls, snapshot, user_id, channel_id, "
            "origin, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (question, offset, json.dumps(urls), snapshot, user_id, channel_id, origin, _now()))
        await self.db.commit()
        assert cur.lastrowid is not None
        return int(cur.lastrowid)

    async def answer(self, answer_id: int) -> Answer | None:
        async with self.db.execute(
                "SELECT id, question, page_offset, urls, snapshot, user_id FROM answers "
                "WHERE id = ?", (answer_id,)) as cur:
            row = await cur.fetchone()
        if row is None:
            return None
        return Answer(id=row[0], question=row[1], offset=row[2], urls=json.loads(row[3]),
                      snapshot=row[4], user_id=row[5])

    async def vote(self, answer_id: int, user_id: int, vote: int) -> None:
        """Record or change one user's vote on one answer (+1 or -1)."""
        if vote not in (-1, 1):
            raise ValueError(f"vote must be +1 or -1, not {vote}")
        await self.db.execute(
            "INSERT INTO votes(answer_id, user_id, vote, created) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(answer_id, user_id) DO UPDATE SET vote = excluded.vote, "
            "created = excluded.created",
            (answer_id, user_id, vote, _now()))
        await self.db.commit()

    async def votes(self, answer_id: int) -> tuple[int, int]:
        """(👍, 👎) counts for one answer."""
        async with self.db.execute(
                "SELECT COALESCE(SUM(vote = 1), 0), COALESCE(SUM(vote = -1), 0) FROM votes "
                "WHERE answer_id = ?", (answer_id,)) as cur:
            row = await cur.fetchone()
        return (int(row[0]), int(row[1])) if row else (0, 0)

    async def totals(self) -> dict[str, int]:
        async with self.db.execute(
                "SELECT (SELECT COUNT(*) FROM answers), "
                "(SELECT COUNT(*) FROM votes WHERE vote = 1), "
                "(SELECT COUNT(*) FROM votes WHERE vote = -1)") as cur:
            row = await cur.fetchone()
        assert row is not None
        return {"answers": int(row[0]), "up": int(row[1]), "down": int(row[2])}

    async def close(self) -> None:
        await self.db.close()
