"""The layering the design promises, checked on the source tree.

- Every SQL statement lives in a store: a snapshot's database is queried only through
  `index.store.Store` (its schema, migrations and offline file checks in
  `index.store_schema`), the feed state only through `index.feeds.state.FeedState`, and the
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
    "index/store_schema.py": "a snapshot's database: its schema, migrations and file checks",
    "index/feeds/state.py": "the feed state, state.sqlite (feeds, items, announcements)",
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


# The bot reaches the index through its public surface, `index/__init__.py`, only.


def index_submodule_imports(source: str) -> list[str]:
    """Where the code imports a module inside `index` rather than `index` itself."""
    found = []
    for node in ast.walk(ast.parse(source)):
        where = f"line {getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Import):
            found += [f"{where}: import {a.name}" for a in node.names
                      if a.name.startswith("index.")]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.startswith("index."):
                found.append(f"{where}: from {node.module} import ...")
            elif node.module == "index":
                # `from index import display` would reach a submodule through the package.
                found += [f"{where}: from index import {a.name}" for a in node.names
                          if (REPO / "index" / f"{a.name}.py").exists()
                          or (REPO / "index" / a.name).is_dir()]
    return found


def test_the_bot_imports_only_the_index_package() -> None:
    bot = sorted((REPO / "bot").rglob("*.py"))
    assert bot
    outside = {_name(p): uses for p in bot
               if (uses := index_submodule_imports(p.read_text(encoding="utf-8")))}
    assert outside == {}, ("the bot imports index submodules; export what it needs from "
                           f"index/__init__.py and import it from `index`: {outside}")


def test_the_check_sees_submodule_imports_written_any_way() -> None:
    sample = '''
import index.store
from index.service import DocketIndex
from index import display
from index import DocketIndex, Result
import indexer.x
from .index import thing
'''
    assert len(index_submodule_imports(sample)) == 3, index_submodule_imports(sample)


def test_every_public_name_of_the_index_resolves() -> None:
    import index

    assert len(index.__all__) == len(set(index.__all__))
    for name in index.__all__:
        assert getattr(index, name) is not None, name
    assert set(index._LAZY) <= set(index.__all__)


# No import circles between modules, counting imports made only for type checking.


def _module_name(path: Path) -> tuple[str, bool]:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


def import_graph(files: dict[str, tuple[str, bool]]) -> dict[str, set[str]]:
    """Module -> the modules of `files` it imports at module level (functions' own
    imports, run when called, are left out). `files` maps a module name to its source
    and whether it is a package."""
    graph: dict[str, set[str]] = {}
    for module, (source, is_package) in files.items():
        here = module.split(".") if is_package else module.split(".")[:-1]
        deps: set[str] = set()
        todo: list[ast.AST] = list(ast.parse(source).body)
        while todo:
            node = todo.pop()
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                continue
            if isinstance(node, ast.Import):
                deps.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = here[:len(here) - node.level + 1] if node.level else []
                target = ".".join([*base, *([node.module] if node.module else [])])
                subs = {f"{target}.{a.name}" for a in node.names} & set(files)
                deps.update(subs)
                if len(subs) < len(node.names):
                    deps.add(target)
            else:
                todo.extend(ast.iter_child_nodes(node))
        graph[module] = {d for d in deps if d in files and d != module}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import circles: strongly connected groups of more than one module."""
    index_of: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(v: str) -> None:
        index_of[v] = low[v] = len(index_of)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index_of:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index_of[w])
        if low[v] == index_of[v]:
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(graph):
        if v not in index_of:
            visit(v)
    return found


def test_no_import_circles() -> None:
    files = {}
    for path in _modules():
        name, is_package = _module_name(path)
        files[name] = (path.read_text(encoding="utf-8"), is_package)
    assert cycles(import_graph(files)) == []


def test_the_circle_check_sees_a_circle() -> None:
    files = {
        "pkg": ("from . import a", True),
        "pkg.a": ("from .b import thing", False),
        "pkg.b": ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .a import x",
                  False),
        "pkg.c": ("def f():\n    from .a import x", False),
        "pkg.d": ("from . import c", False),
    }
    assert cycles(import_graph(files)) == [["pkg.a", "pkg.b"]]
