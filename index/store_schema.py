"""A snapshot database's file: its schema and migrations, connecting to it, and the
offline (synchronous) checks and reads of a file that `verify` and the benchmark make.
The queries of an open snapshot are `index.store.Store`'s."""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import aiosqlite

from .errors import SnapshotError

log = logging.getLogger(__name__)

# Numbered migrations: index i brings the schema from version i to i + 1.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE articles (
        id INTEGER PRIMARY KEY,
        url TEXT NOT NULL UNIQUE,
        title TEXT NOT NULL,
        outlet TEXT NOT NULL,
        published TEXT,
        text TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        source TEXT NOT NULL,
        kind TEXT NOT NULL,
        story_id INTEGER,
        signature BLOB,
        first_seen TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX articles_published ON articles(published);
    CREATE INDEX articles_story ON articles(story_id);
    -- AUTOINCREMENT: a passage id is also its FAISS vector id and must never be reused.
    CREATE TABLE passages (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
        ord INTEGER NOT NULL,
        start INTEGER NOT NULL,
        end INTEGER NOT NULL,
        sentences TEXT NOT NULL,      -- JSON [[start, end], ...] offsets into the article
        sentence_rows TEXT NOT NULL   -- JSON [row, ...] of those sentences' vectors
    );
    CREATE INDEX passages_article ON passages(article_id);
    CREATE VIRTUAL TABLE passages_fts USING fts5(
        body, title, tokenize = 'porter unicode61 remove_diacritics 2'
    );
    CREATE VIRTUAL TABLE passages_vocab USING fts5vocab(passages_fts, 'row');
    CREATE TABLE sources (
        locator TEXT PRIMARY KEY,
        raw_hash TEXT NOT NULL,
        urls TEXT NOT NULL,
        seen_run INTEGER NOT NULL
    );
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        started TEXT NOT NULL,
        finished TEXT,
        summary TEXT
    );
    """,
    # How many passages hold each stemmed term, materialized when a snapshot is built:
    # fts5vocab counts by reading the term's whole doclist, which costs milliseconds
    # per common word on a large index; a primary-key lookup costs microseconds.
    """
    CREATE TABLE term_docs (term TEXT PRIMARY KEY, docs INTEGER NOT NULL) WITHOUT ROWID;
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)
# Snapshots written by older code are still served (search falls back to fts5vocab).
READABLE_SCHEMAS = frozenset(range(1, SCHEMA_VERSION + 1))


async def connect(path: Path, *, readonly: bool = False) -> aiosqlite.Connection:
    """Open a snapshot database; read-only connections treat the file as immutable."""
    if readonly:
        # Published snapshots never change, so SQLite may skip locking entirely.
        db = await aiosqlite.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
    else:
        db = await aiosqlite.connect(path)
        await db.execute("PRAGMA journal_mode = DELETE")
        await db.execute("PRAGMA synchronous = FULL")
        await db.execute("PRAGMA foreign_keys = ON")
    db.row_factory = aiosqlite.Row
    return db


async def schema_version(db: aiosqlite.Connection) -> int:
    """The schema version a database records (0 for a new one)."""
    async with db.execute("PRAGMA user_version") as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def migrate(db: aiosqlite.Connection) -> int:
    """Apply pending migrations; returns the schema version the database had before."""
    version = await schema_version(db)
    if version > SCHEMA_VERSION:
        raise RuntimeError(f"database schema {version} is newer than this code ({SCHEMA_VERSION})")
    for number in range(version, SCHEMA_VERSION):
        await db.executescript(f"BEGIN; {MIGRATIONS[number]} PRAGMA user_version = {number + 1}; COMMIT;")
    # A new database is created, not upgraded: only an existing one's upgrade is news.
    if 0 < version < SCHEMA_VERSION:
        log.info("snapshot database: schema upgraded from %d to %d", version, SCHEMA_VERSION)
    return version


# -- offline reads of a snapshot file (synchronous: `verify` and the benchmark) -------------

@dataclass
class Checked:
    """What `check_database` read from a sound snapshot database."""

    passage_ids: list[int]  # ascending
    articles: int


def check_database(path: Path) -> Checked:
    """SQLite's integrity check, the schema, and the passages' consistency with their
    articles and the full-text index; SnapshotError with the reason when one fails."""
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            result = con.execute("PRAGMA integrity_check").fetchone()
            if not result or result[0] != "ok":
                raise SnapshotError(f"{path}: integrity check failed: {result}")
            version = con.execute("PRAGMA user_version").fetchone()[0]
            if version not in READABLE_SCHEMAS:
                raise SnapshotError(f"{path}: schema {version}, expected {SCHEMA_VERSION}")
            ids = [int(r[0]) for r in con.execute("SELECT id FROM passages ORDER BY id")]
            articles = con.execute("SELECT count(*) FROM articles").fetchone()[0]
            bad = con.execute(
                "SELECT count(*) FROM passages p JOIN articles a ON a.id = p.article_id "
                "WHERE p.start < 0 OR p.end > length(a.text) OR p.start >= p.end").fetchone()[0]
            if bad:
                raise SnapshotError(f"{path}: {bad} passages point outside their article")
            fts = con.execute("SELECT count(*) FROM passages_fts").fetchone()[0]
            if fts != len(ids):
                raise SnapshotError(f"{path}: {fts} full-text rows for {len(ids)} passages")
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        raise SnapshotError(f"{path}: {exc}") from exc
    return Checked(passage_ids=ids, articles=int(articles))


def passage_texts(path: Path) -> list[tuple[str, str]]:
    """(title, body) of every passage, in id order, as the full-text index holds them."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return [(str(t), str(b)) for t, b in
                con.execute("SELECT title, body FROM passages_fts ORDER BY rowid")]
    finally:
        con.close()
