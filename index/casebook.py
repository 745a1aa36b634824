"""The cases of one snapshot: found at ingest, stored beside the index, read by the bot.

Ingest reads every story (one article per group of syndicated copies), finds the cases
they report on (`index.cases`) and the sentence of each story that says what happened,
and writes them to `cases.json` in the snapshot it builds, so no question recomputes
them. Opening a snapshot reads the file and applies config/cases.toml (merge, rename,
hide) on top: a correction takes effect on the next open, without a re-index. A snapshot
built before cases existed has no file and simply knows no cases.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from . import cases as cases_mod
from .cases import Case, Overrides, Story, TimelineEntry
from .errors import SnapshotError

log = logging.getLogger(__name__)

CASES_FILE = "cases.json"
FORMAT = 1


@dataclass(frozen=True)
class Found:
    """What ingest found: the cases as detected, and each one's timeline (newest first)."""

    cases: list[Case]
    timelines: dict[str, list[TimelineEntry]]  # by case key
    titles: dict[str, str] = field(default_factory=dict)  # story id -> title


def find(stories: Iterable[Story]) -> Found:
    """The cases the stories report on, each with one verbatim dated sentence per story."""
    stories = list(stories)
    found = cases_mod.find_cases(stories)
    return Found(found, {c.key: cases_mod.timeline(c, stories) for c in found},
                 {s.story_id: s.title for s in stories})


def write(directory: Path, found: Found) -> Path:
    """cases.json in a snapshot being built (its manifest lists and checksums it)."""
    data = {"format": FORMAT,
            "cases": [asdict(c) for c in found.cases],
            "timelines": {k: [asdict(e) for e in v] for k, v in found.timelines.items()},
            "titles": found.titles}
    path = directory / CASES_FILE
    path.write_text(json.dumps(data, ensure_ascii=False, sort_keys=True), encoding="utf-8")
    return path


def read(directory: Path) -> Found:
    """The cases stored in a snapshot; none for a snapshot that has no cases file."""
    path = directory / CASES_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Found([], {})
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SnapshotError(f"{path}: cannot read the cases: {exc}") from exc
    try:
        if data.get("format") != FORMAT:
            raise ValueError(f"format {data.get('format')!r}, expected {FORMAT}")
        found = [_case(c) for c in data["cases"]]
        timelines = {k: [TimelineEntry(**e) for e in v] for k, v in data["timelines"].items()}
        titles = {str(k): str(v) for k, v in data.get("titles", {}).items()}
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise SnapshotError(f"{path}: not a cases file Docket wrote: {exc}") from exc
    return Found(found, timelines, titles)


def _case(raw: dict[str, Any]) -> Case:
    tuples = {k: tuple(raw.get(k) or ()) for k in ("aliases", "story_ids", "plaintiffs", "defendants")}
    return Case(key=str(raw["key"]), name=str(raw["name"]), first=raw.get("first"),
                last=raw.get("last"), **tuples)


@dataclass(frozen=True)
class CaseBook:
    """The cases one snapshot shows: detection corrected by the overrides, most recently
    active first, each with its timeline."""

    cases: list[Case]
    timelines: dict[str, list[TimelineEntry]]
    titles: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, found: Found, overrides: Overrides | None = None) -> CaseBook:
        entries = {e.story_id: e for t in found.timelines.values() for e in t}
        corrected = (cases_mod.apply_overrides(found.cases, overrides) if overrides
                     else list(found.cases))
        original = {c.key: c for c in found.cases}
        timelines: dict[str, list[TimelineEntry]] = {}
        for case in corrected:
            # A merged or renamed case keeps the sentences found for its parts.
            sentences: dict[str, TimelineEntry] = {}
            for part in original.values():
                if set(part.story_ids) & set(case.story_ids):
                    for e in found.timelines.get(part.key, []):
                        sentences.setdefault(e.story_id, e)
            rows = [sentences.get(s) or entries.get(s) for s in case.story_ids]
            timelines[case.key] = sorted((e for e in rows if e is not None),
                                         key=lambda e: (e.date is not None, e.date or ""),
                                         reverse=True)
        ordered = sorted(corrected, key=lambda c: (c.last or "", c.name), reverse=True)
        return cls(ordered, timelines, dict(found.titles))

    def __len__(self) -> int:
        return len(self.cases)

    def get(self, name: str) -> Case | None:
        """The case a name (its name, an alias or key, spelled loosely) is, or None."""
        key = cases_mod.name_key(name)
        if not key:
            return None
        for case in self.cases:
            if key in {cases_mod.name_key(case.key.replace("-", " ")), cases_mod.name_key(case.name),
                       *(cases_mod.name_key(a) for a in case.aliases)}:
                return case
        return None

    def resolve(self, typed: str) -> Case | None:
        """The case meant by what a user typed: an exact name, else the only or clearly
        best autocomplete match ("bartz anthropic")."""
        exact = self.get(typed)
        if exact is not None:
            return exact
        matches = cases_mod.lookup(self.cases, typed, limit=2)
        return matches[0] if len(matches) == 1 else None

    def suggest(self, typed: str, limit: int = 25) -> list[Case]:
        """Autocomplete: cases matching what was typed, most recently active first."""
        return cases_mod.lookup(self.cases, typed, limit)

    def closest(self, name: str, limit: int = 3) -> list[str]:
        return cases_mod.closest_names(self.cases, name, limit)

    def timeline(self, case: Case) -> list[TimelineEntry]:
        """One dated verbatim sentence per story of the case, newest first."""
        return self.timelines.get(case.key, [])

    def named_in(self, question: str) -> Case | None:
        """The case a question names ("what's the latest in bartz v anthropic"), if any:
        the longest of the names and aliases found in it as whole words."""
        text = f" {cases_mod.name_key(question)} "
        best: tuple[int, Case] | None = None
        for case in self.cases:
            for written in (case.name, *case.aliases):
                key = cases_mod.name_key(written)
                if " v " in f" {key} " and f" {key} " in text and (best is None or len(key) > best[0]):
                    best = (len(key), case)
        return best[1] if best else None


def stories_of(rows: Sequence[Any]) -> list[Story]:
    """Stories for the case finder from article rows (one per story: its first copy)."""
    return [Story(story_id=str(r.story), title=r.title, text=r.text, published=r.published,
                  outlet=r.outlet, url=r.url) for r in rows]


async def collect(st: Any, progress: Callable[[int, int], None] | None = None) -> Found:
    """The cases of a snapshot's stories, read through its store (for ingest); `progress`
    hears (stories done, stories) before and after."""
    stories = list(stories_of(await st.newest(since=None, until=None, limit=10**9)))
    if progress and stories:
        progress(0, len(stories))
    found = await asyncio.to_thread(find, stories)
    if progress and stories:
        progress(len(stories), len(stories))
    return found
