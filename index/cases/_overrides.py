"""Corrections to the cases found automatically: merge, rename, hide (config/cases.toml).

The file only corrects what detection found; it is optional, and a case it does not
mention is left as detected. Cases are named by their name, one of their aliases or their
key, spelled loosely ("getty images v stability ai (uk)"). Merges apply first, then renames,
then hides, so a rename or a hide may name a merged case by its new name.
"""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ._model import Case
from ._names import name_key, slug

log = logging.getLogger(__name__)

_KEYS = {"merge", "rename", "hide"}


class CaseOverridesError(ConfigError):
    """config/cases.toml cannot be read or says something that is not an override."""


@dataclass(frozen=True)
class Merge:
    cases: tuple[str, ...]
    name: str | None = None  # the merged case's name; the first case's name when not given


@dataclass(frozen=True)
class Overrides:
    merge: tuple[Merge, ...] = ()
    rename: tuple[tuple[str, str], ...] = ()  # (case, new name)
    hide: tuple[str, ...] = ()
    source: str = field(default="", compare=False)


def load_overrides(path: Path) -> Overrides:
    """The overrides in a TOML file; none when the file does not exist."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Overrides(source=str(path))
    except OSError as exc:
        raise CaseOverridesError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise CaseOverridesError(f"{path}: not UTF-8 text") from exc
    except tomllib.TOMLDecodeError as exc:
        raise CaseOverridesError(f"{path}: not valid TOML: {exc}") from exc
    return parse_overrides(data, source=str(path))


def parse_overrides(data: dict[str, Any], source: str = "cases.toml") -> Overrides:
    """Overrides from parsed TOML, with a message naming the file and the entry at fault."""
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise CaseOverridesError(f"{source}: unknown key {unknown[0]!r} (the keys are merge, "
                                 "rename and hide)")
    merges = data.get("merge", [])
    if not isinstance(merges, list):
        raise CaseOverridesError(f"{source}: merge must be a list of [[merge]] tables")
    parsed: list[Merge] = []
    for number, entry in enumerate(merges, start=1):
        where = f"{source}: [[merge]] number {number}"
        if not isinstance(entry, dict):
            raise CaseOverridesError(f"{where} must be a table with `cases` (and `name`)")
        extra = sorted(set(entry) - {"cases", "name"})
        if extra:
            raise CaseOverridesError(f"{where}: unknown key {extra[0]!r} (expected cases, name)")
        cases = entry.get("cases")
        if not isinstance(cases, list) or not _strings(cases) or len(cases) < 2:
            raise CaseOverridesError(f"{where}: `cases` must list at least two case names")
        name = entry.get("name")
        if name is not None and (not isinstance(name, str) or not name.strip()):
            raise CaseOverridesError(f"{where}: `name` must be a non-empty string")
        parsed.append(Merge(tuple(cases), name.strip() if name else None))
    rename = data.get("rename", {})
    if not isinstance(rename, dict):
        raise CaseOverridesError(f"{source}: rename must be a table of \"old name\" = \"new name\"")
    for old, new in rename.items():
        if not isinstance(new, str) or not new.strip():
            raise CaseOverridesError(f"{source}: [rename] {old!r} must be given a new name (a "
                                     f"string), not {new!r}")
    hide = data.get("hide", [])
    if not _strings(hide):
        raise CaseOverridesError(f"{source}: hide must be a list of case names")
    return Overrides(tuple(parsed), tuple((k, v.strip()) for k, v in rename.items()),
                     tuple(hide), source)


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value)


def _find(cases: Sequence[Case], wanted: str) -> Case | None:
    key = name_key(wanted)
    for case in cases:
        if key in {name_key(case.key.replace("-", " ")), name_key(case.name),
                   *(name_key(a) for a in case.aliases)}:
            return case
    return None


def _renamed(case: Case, name: str, aliases: tuple[str, ...] = ()) -> Case:
    names = tuple(dict.fromkeys(a for a in (case.name, *case.aliases, *aliases) if a != name))
    return Case(slug(name), name, names, case.story_ids, case.first, case.last,
                case.plaintiffs, case.defendants)


def _merged(parts: Sequence[Case], name: str) -> Case:
    stories = sorted({(c.first or "", s) for c in parts for s in c.story_ids})
    firsts = [c.first for c in parts if c.first]
    lasts = [c.last for c in parts if c.last]
    base = Case(parts[0].key, parts[0].name, parts[0].aliases,
                tuple(dict.fromkeys(s for _, s in stories)), min(firsts, default=None),
                max(lasts, default=None),
                tuple(dict.fromkeys(p for c in parts for p in c.plaintiffs)),
                tuple(dict.fromkeys(d for c in parts for d in c.defendants)))
    others = tuple(n for c in parts[1:] for n in (c.name, *c.aliases))
    return _renamed(base, name, others)


def apply_overrides(cases: Sequence[Case], overrides: Overrides) -> list[Case]:
    """The cases as the overrides correct them; an override naming no case is logged."""
    out = list(cases)
    for merge in overrides.merge:
        parts = [c for c in (_find(out, n) for n in merge.cases) if c is not None]
        parts = list(dict.fromkeys(parts))
        missing = [n for n in merge.cases if _find(out, n) is None]
        if missing:
            log.warning("%s: merge: no case is called %s", overrides.source or "overrides",
                        ", ".join(repr(m) for m in missing))
        if len(parts) < 2:
            continue
        merged = _merged(parts, merge.name or parts[0].name)
        position = out.index(parts[0])
        out = [c for c in out if c not in parts]
        out.insert(min(position, len(out)), merged)
    for old, new in overrides.rename:
        case = _find(out, old)
        if case is None:
            log.warning("%s: rename: no case is called %r", overrides.source or "overrides", old)
            continue
        out[out.index(case)] = _renamed(case, new)
    for name in overrides.hide:
        case = _find(out, name)
        if case is None:
            log.warning("%s: hide: no case is called %r", overrides.source or "overrides", name)
            continue
        out.remove(case)
    return sorted(out, key=lambda c: (c.last or "", c.name), reverse=True)
