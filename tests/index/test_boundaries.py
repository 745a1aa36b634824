"""The layering the design promises, checked on the source tree.

- Every SQL statement lives in a store: a snapshot's database is queried only through
  `index.store.Store`, the feed state only through `index.feedstate.FeedState`, and the
  bot's own database (answers, votes, subscriptions) only through its two stores.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("index", "bot")

# The modules that may talk SQL, and the database each one owns.
STORES = {
    "index/store.py": "a snapshot's database (articles, passages, full text, runs)",
    "index/feedstate.py": "the feed state, state.sqlite (feeds, items, announcements)",
    "bot/feedback.py": "the bot's database: shown answers and votes",
    "bot/subscriptions.py": "the bot's database: channel subscriptions",
    "bot/digests.py": "the bot's database: weekly digests",
}
DRIVERS = {"sqlite3", "aiosqlite"}
CURSOR_CALLS = {"execute", "executemany", "executescript"}
# The start of a statement, as the stores write them (upper case keywords).
SQL = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|PRAGMA|BEGIN|WITH)\s")


def _modules() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (REPO / package).rglob("*.py"))


def _name(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


def sql_uses(source: str) -> list[str]:
    """Where the code imports a SQLite driver, calls a cursor method or writes a statement."""
    found = []
    for node in ast.walk(ast.parse(source)):
        where = f"line {getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Import):
            found += [f"{where}: import {a.name}" for a in node.names
                      if a.name.split(".")[0] in DRIVERS]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module \
                and node.module.split(".")[0] in DRIVERS:
            found.append(f"{where}: from {node.module} import ...")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in CURSOR_CALLS:
            found.append(f"{where}: .{node.func.attr}()")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) \
                and SQL.match(node.value):
            found.append(f"{where}: {node.value.strip()[:40]!r}")
    return found


def test_only_the_stores_issue_sql() -> None:
    outside = {_name(p): uses for p in _modules()
               if _name(p) not in STORES and (uses := sql_uses(p.read_text(encoding="utf-8")))}
    assert outside == {}, ("SQL outside the stores; add a method to the store that owns the "
                           f"database instead: {outside}")


def test_each_store_is_where_its_sql_is() -> None:
    # The check sees SQL where it is: a store that no longer issues any would make the
    # list above stale (and a blind check would pass everything).
    for name in STORES:
        assert sql_uses((REPO / name).read_text(encoding="utf-8")), name


def test_the_check_sees_sql_written_any_way() -> None:
    sample = '''
import aiosqlite
from sqlite3 import connect
async def f(snap):
    await snap.store.db.execute("SELECT 1")
    await db.executemany(sql, rows)
    q = f"""
        DELETE FROM articles WHERE id = {x}"""
'''
    uses = sql_uses(sample)
    assert len(uses) == 6, uses
    assert sql_uses("print('Select a channel'); items.execute = 1; x = 'UPDATED'") == []
