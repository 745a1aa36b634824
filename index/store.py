"""The queries of a snapshot's database that ingest and search need (`Store`); its schema,
migrations and connections are in `index.store_schema`."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiosqlite

from .errors import SnapshotError
from .store_schema import READABLE_SCHEMAS, SCHEMA_VERSION, connect, schema_version


@dataclass
class NewPassage:
    """A passage as an ingest writes it: its offsets, its sentences' spans and vector rows,
    and the text its full-text row indexes."""

    id: int
    article_id: int
    ord: int
    start: int
    end: int
    sentences: Sequence[tuple[int, int]]
    sentence_rows: Sequence[int]
    body: str
    title: str


@dataclass
class ArticleRow:
    id: int
    url: str
    title: str
    outlet: str
    published: str | None
    text: str
    content_hash: str
    story_id: int | None

    @property
    def story(self) -> int:
        """The story the article belongs to: syndicated copies share their first copy's id."""
        return self.story_id or self.id

    @classmethod
    def from_row(cls, row: aiosqlite.Row) -> ArticleRow:
        return cls(id=row["id"], url=row["url"], title=row["title"], outlet=row["outlet"],
                   published=row["published"], text=row["text"],
                   content_hash=row["content_hash"], story_id=row["story_id"])


class Store:
    """Every query of one snapshot database: the reads search and the bot need, and the
    writes of an ingest building a new snapshot."""

    def __init__(self, db: aiosqlite.Connection, schema: int = SCHEMA_VERSION) -> None:
        self.db = db
        self.schema = schema

    @classmethod
    async def open_published(cls, path: Path) -> Store:
        """A published snapshot's database, read-only; SnapshotError when it is unreadable
        or of a schema this code cannot read."""
        db = await connect(path, readonly=True)
        try:
            version = await schema_version(db)
        except aiosqlite.DatabaseError as exc:
            await db.close()
            raise SnapshotError(f"{path}: unreadable database ({exc})") from exc
        if version not in READABLE_SCHEMAS:
            await db.close()
            raise SnapshotError(f"{path}: schema {version}, expected {SCHEMA_VERSION}")
        return cls(db, version)

    async def close(self) -> None:
        await self.db.close()

    # -- writes (an ingest, on the snapshot it is building) ------------------------------

    async def begin(self) -> None:
        await self.db.execute("BEGIN")

    async def commit(self) -> None:
        await self.db.commit()

    async def last_passage_id(self) -> int:
        """The highest passage id ever given out (0 for none): ids are never reused."""
        async with self.db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'passages'") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def add_article(self, *, url: str, title: str, outlet: str, published: str | None,
                          text: str, content_hash: str, source: str, kind: str,
                          story_id: int | None, signature: bytes, now: str) -> int:
        """Insert an article; its id. With no story_id it starts a story of its own."""
        cur = await self.db.execute(
            "INSERT INTO articles(url, title, outlet, published, text, content_hash, source, kind, "
            "story_id, signature, first_seen, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (url, title, outlet, published, text, content_hash, source, kind,
             story_id, signature, now, now))
        article_id = cur.lastrowid
        assert article_id is not None
        if story_id is None:
            await self.db.execute("UPDATE articles SET story_id = id WHERE id = ?", (article_id,))
        return article_id

    async def add_passages(self, passages: Sequence[NewPassage]) -> None:
        """Insert passages with their full-text rows (title and body)."""
        await self.db.executemany(
            "INSERT INTO passages(id, article_id, ord, start, end, sentences, sentence_rows) "
            "VALUES (?,?,?,?,?,?,?)",
            [(p.id, p.article_id, p.ord, p.start, p.end, json.dumps(p.sentences),
              json.dumps(p.sentence_rows)) for p in passages])
        await self.db.executemany("INSERT INTO passages_fts(rowid, body, title) VALUES (?,?,?)",
                                  [(p.id, p.body, p.title) for p in passages])

    async def save_source_hashes(self, hashes: Iterable[tuple[str, str, list[str]]]) -> None:
        """Record (locator, raw hash, article URLs) of sources read, for skipping them unchanged."""
        await self.db.executemany(
            "INSERT INTO sources(locator, raw_hash, urls, seen_run) VALUES (?, ?, ?, 0) "
            "ON CONFLICT(locator) DO UPDATE SET raw_hash = excluded.raw_hash, urls = excluded.urls",
            [(locator, raw_hash, json.dumps(urls)) for locator, raw_hash, urls in hashes])

    async def record_run(self, started: str, finished: str, summary: dict[str, Any]) -> None:
        await self.db.execute("INSERT INTO runs(started, finished, summary) VALUES (?, ?, ?)",
                              (started, finished, json.dumps(summary)))

    async def signatures(self, *, published: tuple[str, str] | None,
                         excluding: str) -> AsyncIterator[tuple[int, bytes]]:
        """(story id, MinHash signature) of the articles published between the two dates,
        or of the undated ones when `published` is None; not the article at `excluding`."""
        if published is not None:
            sql = ("SELECT id, story_id, signature FROM articles WHERE published BETWEEN ? AND ? "
                   "AND url != ?")
            params: tuple[Any, ...] = (*published, excluding)
        else:
            sql = "SELECT id, story_id, signature FROM articles WHERE published IS NULL AND url != ?"
            params = (excluding,)
        async with self.db.execute(sql, params) as cur:
            async for row in cur:
                if row[2] is not None:
                    yield int(row[1] or row[0]), bytes(row[2])

    # -- reads -----------------------------------------------------------------------------

    async def counts(self) -> dict[str, int]:
        out = {}
        for name, sql in (("articles", "SELECT count(*) FROM articles"),
                          ("passages", "SELECT count(*) FROM passages"),
                          ("stories", "SELECT count(DISTINCT coalesce(story_id, id)) FROM articles")):
            async with self.db.execute(sql) as cur:
                row = await cur.fetchone()
            out[name] = int(row[0]) if row else 0
        return out

    async def article_hashes(self) -> dict[str, tuple[int, str, str]]:
        """url -> (id, content hash, kind) of every article."""
        async with self.db.execute("SELECT url, id, content_hash, kind FROM articles") as cur:
            return {r[0]: (r[1], r[2], r[3]) async for r in cur}

    async def source_hashes(self) -> dict[str, tuple[str, list[str]]]:
        async with self.db.execute("SELECT locator, raw_hash, urls FROM sources") as cur:
            return {r[0]: (r[1], json.loads(r[2])) async for r in cur}

    async def passage_ids(self, article_ids: Sequence[int]) -> list[int]:
        return [r[0] async for r in self._select_in(
            "SELECT id FROM passages WHERE article_id IN ({marks})", article_ids)]

    async def delete_articles(self, article_ids: Sequence[int]) -> list[int]:
        """Delete articles with their passages; returns the removed passage ids."""
        removed = await self.passage_ids(article_ids)
        for batch in _batches(removed, 500):
            await self.db.executemany("DELETE FROM passages_fts WHERE rowid = ?", [(i,) for i in batch])
        for batch in _batches(article_ids, 500):
            marks = ",".join("?" * len(batch))
            await self.db.execute(f"DELETE FROM passages WHERE article_id IN ({marks})", batch)
            await self.db.execute(f"DELETE FROM articles WHERE id IN ({marks})", batch)
        return removed

    async def article_by_url(self, url: str) -> ArticleRow | None:
        async with self.db.execute(
                "SELECT id, url, title, outlet, published, text, content_hash, story_id "
                "FROM articles WHERE url = ?", (url,)) as cur:
            row = await cur.fetchone()
        return ArticleRow.from_row(row) if row is not None else None

    async def article_texts(self, ids: Iterable[int]) -> dict[int, str]:
        return {row[0]: row[1] async for row in self._select_in(
            "SELECT id, text FROM articles WHERE id IN ({marks})", ids)}

    async def passage_articles(self, ids: Iterable[int]) -> dict[int, ArticleRow]:
        """passage id -> its article, without the article's text (cheap, for ranking)."""
        return {row["pid"]: ArticleRow.from_row(row) async for row in self._select_in(
            "SELECT p.id AS pid, a.id, a.url, a.title, a.outlet, a.published, '' AS text, "
            "a.content_hash, a.story_id FROM passages p JOIN articles a ON a.id = p.article_id "
            "WHERE p.id IN ({marks})", ids)}

    async def passages_by_ids(self, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
        return {row["id"]: {"id": row["id"], "article_id": row["article_id"],
                            "ord": row["ord"], "start": row["start"], "end": row["end"],
                            "sentences": json.loads(row["sentences"]),
                            "sentence_rows": json.loads(row["sentence_rows"])}
                async for row in self._select_in(
                    "SELECT id, article_id, ord, start, end, sentences, sentence_rows "
                    "FROM passages WHERE id IN ({marks})", ids)}

    async def sentences_of_articles(self, article_ids: Iterable[int]
                                    ) -> dict[int, dict[tuple[int, int], int]]:
        """Every sentence span of each article, with the row of its stored vector."""
        ids = list(dict.fromkeys(article_ids))
        out: dict[int, dict[tuple[int, int], int]] = {i: {} for i in ids}
        async for row in self._select_in("SELECT article_id, sentences, sentence_rows FROM passages "
                                         "WHERE article_id IN ({marks})", ids):
            spans = out[row[0]]
            for span, vec_row in zip(json.loads(row[1]), json.loads(row[2]), strict=True):
                spans[(span[0], span[1])] = vec_row
        return out

    async def lexical(self, match: str, limit: int, title_weight: float) -> list[tuple[int, float]]:
        """Passage ids and bm25 scores (lower is better in SQLite; negated here)."""
        sql = ("SELECT rowid, bm25(passages_fts, 1.0, ?) AS score FROM passages_fts "
               "WHERE passages_fts MATCH ? ORDER BY score LIMIT ?")
        async with self.db.execute(sql, (title_weight, match, limit)) as cur:
            return [(int(r[0]), -float(r[1])) async for r in cur]

    async def story_members(self, story_ids: Iterable[int]) -> dict[int, list[ArticleRow]]:
        out: dict[int, list[ArticleRow]] = {}
        async for row in self._select_in(
                "SELECT id, url, title, outlet, published, '' AS text, content_hash, story_id "
                "FROM articles WHERE story_id IN ({marks}) ORDER BY published, id", story_ids):
            out.setdefault(row["story_id"], []).append(ArticleRow.from_row(row))
        return out

    async def also_reported(self, articles: Iterable[ArticleRow]) -> dict[int, list[ArticleRow]]:
        """Each article's (by id) fellow members of its story, oldest first: the same
        news as the other outlets reported it."""
        articles = list(articles)
        members = await self.story_members({a.story for a in articles})
        return {a.id: [m for m in members.get(a.story, []) if m.id != a.id] for a in articles}

    async def newest(self, *, since: str | None, until: str | None, limit: int) -> list[ArticleRow]:
        """Newest articles (one per story), newest first."""
        clauses = ["published IS NOT NULL"]
        params: list[Any] = []
        if since:
            clauses.append("published >= ?")
            params.append(since)
        if until:
            clauses.append("published <= ?")
            params.append(until)
        sql = (f"SELECT id, url, title, outlet, published, text, content_hash, story_id "
               f"FROM articles WHERE {' AND '.join(clauses)} ORDER BY published DESC, id DESC")
        out: list[ArticleRow] = []
        seen: set[int] = set()
        async with self.db.execute(sql, params) as cur:
            async for row in cur:
                art = ArticleRow.from_row(row)
                if art.story in seen:
                    continue
                seen.add(art.story)
                out.append(art)
                if len(out) >= limit:
                    break
        return out

    async def document_frequencies(self, terms: Iterable[str]) -> dict[str, int]:
        """How many passages contain each (porter-stemmed) term."""
        terms = list(dict.fromkeys(terms))
        out: dict[str, int] = {}
        if terms:
            marks = ",".join("?" * len(terms))
            sql = (f"SELECT term, docs FROM term_docs WHERE term IN ({marks})" if self.schema >= 2
                   else f"SELECT term, doc FROM passages_vocab WHERE term IN ({marks})")
            async with self.db.execute(sql, terms) as cur:
                out = {r[0]: int(r[1]) async for r in cur}
        return out

    async def terms_with_prefix(self, prefix: str, limit: int = 5000) -> list[str]:
        """Indexed (porter-stemmed) terms that start with prefix, for spelling matches."""
        table, column = ("term_docs", "term") if self.schema >= 2 else ("passages_vocab", "term")
        # A range on the primary key: prefix <= term < prefix with its last letter raised.
        upper = prefix[:-1] + chr(ord(prefix[-1]) + 1) if prefix else None
        sql = f"SELECT {column} FROM {table} WHERE {column} >= ?" + (f" AND {column} < ?" if upper else "")
        args = (prefix, upper) if upper else (prefix,)
        async with self.db.execute(sql + f" LIMIT {int(limit)}", args) as cur:
            return [r[0] async for r in cur]

    async def _select_in(self, sql: str, keys: Iterable[Any]) -> AsyncIterator[aiosqlite.Row]:
        """Rows of `sql`, whose `{marks}` is an IN list, over the distinct keys in batches
        (SQLite caps the number of parameters of one statement)."""
        for batch in _batches(list(dict.fromkeys(keys)), 500):
            async with self.db.execute(sql.format(marks=",".join("?" * len(batch))), batch) as cur:
                async for row in cur:
                    yield row

    async def refresh_term_docs(self) -> None:
        """Recount term_docs from the full-text index (once per snapshot build)."""
        await self.db.execute("DELETE FROM term_docs")
        await self.db.execute("INSERT INTO term_docs(term, docs) SELECT term, doc FROM passages_vocab")

    async def first_passage(self, article_id: int) -> dict[str, Any] | None:
        return (await self.first_passages([article_id])).get(article_id)

    async def first_passages(self, article_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
        """article id -> its first passage (as passages_by_ids gives it)."""
        firsts = [row[0] async for row in self._select_in(
            "SELECT min(id) FROM passages WHERE article_id IN ({marks}) GROUP BY article_id",
            article_ids)]
        return {p["article_id"]: p for p in (await self.passages_by_ids(firsts)).values()}

    async def last_run(self) -> dict[str, Any] | None:
        async with self.db.execute(
                "SELECT id, started, finished, summary FROM runs ORDER BY id DESC LIMIT 1") as cur:
            row = await cur.fetchone()
        if row is None:
            return None
        return {"id": row[0], "started": row[1], "finished": row[2],
                "summary": json.loads(row[3]) if row[3] else None}

    async def outlets(self) -> list[tuple[str, int]]:
        async with self.db.execute(
                "SELECT outlet, count(*) FROM articles GROUP BY outlet ORDER BY 2 DESC, 1") as cur:
            return [(r[0], r[1]) async for r in cur]


def _batches(items: Sequence[Any], size: int) -> Iterable[list[Any]]:
    items = list(items)
    for i in range(0, len(items), size):
        yield items[i:i + size]
