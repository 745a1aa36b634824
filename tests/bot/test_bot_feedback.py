"""bot.sqlite: numbered migrations, answers and votes."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.feedback import DB_FILE, MIGRATIONS, FeedbackStore

pytestmark = pytest.mark.asyncio(loop_scope="function")


async def test_migrations_run_once_and_record_the_version(tmp_path: Path) -> None:
    store = await FeedbackStore.open(tmp_path / DB_FILE)
    await store.close()
    store = await FeedbackStore.open(tmp_path / DB_FILE)  # reopening migrates nothing
    await store.close()
    with sqlite3.connect(tmp_path / DB_FILE) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"answers", "votes"} <= tables


async def test_a_database_from_a_newer_bot_is_refused(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / DB_FILE) as db:
        db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    with pytest.raises(RuntimeError, match="newer than this bot"):
        await FeedbackStore.open(tmp_path / DB_FILE)


async def test_votes_are_stored_with_the_question_and_urls_and_can_change(tmp_path: Path) -> None:
    store = await FeedbackStore.open(tmp_path / DB_FILE)
    try:
        aid = await store.record_answer("What did Japan ask?", offset=0,
                                        urls=["https://a", "https://b"], snapshot="s1",
                                        user_id=1, channel_id=2, origin="slash")
        answer = await store.answer(aid)
        assert answer is not None and answer.question == "What did Japan ask?"
        assert answer.urls == ["https://a", "https://b"] and answer.offset == 0
        await store.vote(aid, 10, 1)
        await store.vote(aid, 11, 1)
        await store.vote(aid, 10, -1)  # a user changes their mind: one vote each
        assert await store.votes(aid) == (1, 1)
        assert await store.totals() == {"answers": 1, "up": 1, "down": 1}
        assert await store.answer(aid + 1) is None
        with pytest.raises(ValueError):
            await store.vote(aid, 10, 0)
    finally:
        await store.close()
