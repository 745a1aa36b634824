"""The lint rules that keep the layering, checked against the tree they guard.

ruff's banned-api (TID251, pyproject.toml) names each module of the index the bot may
not import; a module added to the index must be added there too, or the bot could
import it unnoticed by ruff. The other direction, the index never importing the bot,
is checked here.
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _banned() -> set[str]:
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    lint = config["tool"]["ruff"]["lint"]
    assert "TID251" in lint["select"]
    assert lint["per-file-ignores"] == {"index/**": ["TID251"], "tests/**": ["TID251"]}
    return set(lint["flake8-tidy-imports"]["banned-api"])


def _index_modules() -> set[str]:
    root = REPO / "index"
    modules = {p.stem for p in root.glob("*.py") if p.stem != "__init__"}
    packages = {p.name for p in root.iterdir() if (p / "__init__.py").is_file()}
    return {f"index.{name}" for name in modules | packages}


def test_ruff_bans_every_module_of_the_index() -> None:
    banned, modules = _banned(), _index_modules()
    assert modules - banned == set(), "add these to the banned-api table in pyproject.toml"
    assert banned - modules == set(), "these are no longer modules of the index"


def test_the_index_never_imports_the_bot() -> None:
    found = []
    for path in sorted((REPO / "index").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            else:
                continue
            found += [f"{path.relative_to(REPO)}:{node.lineno}: {n}" for n in names
                      if n == "bot" or n.startswith("bot.")]
    assert found == []
