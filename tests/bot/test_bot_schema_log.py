"""Log lines about databases say what happened to which file: `--check` changes nothing and
says nothing about schemas; a real upgrade says from which schema to which."""

from __future__ import annotations

import logging
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import aiosqlite
import pytest
from docket_harness import CONFIG, REPO

from bot.feedback import DB_FILE, MIGRATIONS, FeedbackStore
from index import store_schema

each_loop = pytest.mark.asyncio(loop_scope="function")


def schema_lines(text: str) -> list[str]:
    return [line for line in text.splitlines()
            if "schema" in line.lower() or "migrat" in line.lower()]


def test_check_says_nothing_about_schemas(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"}
    env.update({"PYTHONPATH": str(REPO), "DOCKET_CONFIG": str(CONFIG),
                "DOCKET_DATA_DIR": str(tmp_path / "data"), "NO_COLOR": "1",
                "DOCKET_LOG_LEVEL": "INFO"})
    done = subprocess.run([sys.executable, "-m", "bot", "--check"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stderr
    assert schema_lines(done.stderr) == []
    assert not (tmp_path / "data" / DB_FILE).exists()


@each_loop
async def test_a_throwaway_store_logs_nothing_at_info(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    store_ = await FeedbackStore.open(":memory:")
    await store_.close()
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO] == []


@each_loop
async def test_a_new_state_file_is_reported_as_created(tmp_path: Path,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    store_ = await FeedbackStore.open(tmp_path / DB_FILE)
    await store_.close()
    messages = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    assert messages == [f"created {tmp_path / DB_FILE}"]


@each_loop
async def test_an_upgraded_state_file_says_from_which_schema(tmp_path: Path,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / DB_FILE
    with sqlite3.connect(path) as db:
        db.executescript(f"{MIGRATIONS[0]}\nPRAGMA user_version = 1;")
    caplog.set_level(logging.INFO)
    store_ = await FeedbackStore.open(path)
    await store_.close()
    messages = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    assert messages == [f"{path}: schema upgraded from 1 to {len(MIGRATIONS)}"]


@each_loop
async def test_a_new_snapshot_database_is_not_reported_as_migrated(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    db = await aiosqlite.connect(":memory:")
    try:
        assert await store_schema.migrate(db) == 0
    finally:
        await db.close()
    assert schema_lines("\n".join(r.getMessage() for r in caplog.records
                                  if r.levelno >= logging.INFO)) == []


@each_loop
@pytest.mark.skipif(store_schema.SCHEMA_VERSION < 2, reason="one schema version: nothing to upgrade")
async def test_an_old_snapshot_database_says_from_which_schema(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "index.sqlite"
    with sqlite3.connect(path) as db:
        db.executescript(f"{store_schema.MIGRATIONS[0]}\nPRAGMA user_version = 1;")
    caplog.set_level(logging.INFO)
    db_ = await aiosqlite.connect(path)
    try:
        assert await store_schema.migrate(db_) == 1
    finally:
        await db_.close()
    messages = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    assert messages == [f"snapshot database: schema upgraded from 1 to {store_schema.SCHEMA_VERSION}"]
