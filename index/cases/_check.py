"""How well the cases found match a hand-made check set (index/sample/cases_check.json)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ._model import Case
from ._names import name_key


@dataclass(frozen=True)
class CheckScore:
    """Precision and recall of (story, case) pairs: a found case counts as the expected case
    it shares most stories with (each expected case is taken by one found case at most)."""

    precision: float
    recall: float
    correct: int
    found: int
    expected: int
    matched: Mapping[str, str]  # expected case name -> found case name
    # Expected cases reported by two or more stories that no found case holds all of.
    missed: tuple[str, ...]


def load_check(path: Path) -> dict[str, tuple[str, ...]]:
    """A check set's cases: name -> the ids (file names) of the stories that report on it."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return {entry["name"]: tuple(entry["articles"]) for entry in data["cases"]}


def score_assignment(cases: Sequence[Case],
                     expected: Mapping[str, Sequence[str]]) -> CheckScore:
    """Score the story-to-case assignment of `cases` against `expected`."""
    pairs = []
    for case in cases:
        for name, stories in expected.items():
            overlap = len(set(case.story_ids) & set(stories))
            if overlap:
                same_name = name_key(case.name) == name_key(name)
                pairs.append((overlap, same_name, case.key, name, case))
    pairs.sort(key=lambda p: (-p[0], not p[1], p[2], p[3]))
    matched: dict[str, Case] = {}
    taken: set[str] = set()
    for _overlap, _same, key, name, case in pairs:
        if name not in matched and key not in taken:
            matched[name] = case
            taken.add(key)
    as_expected = {case.key: name for name, case in matched.items()}
    found = {(story, as_expected.get(case.key, "\0" + case.key))
             for case in cases for story in case.story_ids}
    wanted = {(story, name) for name, stories in expected.items() for story in stories}
    correct = len(found & wanted)
    missed = tuple(name for name, stories in expected.items() if len(stories) >= 2 and not any(
        set(stories) <= set(case.story_ids) for case in cases))
    return CheckScore(precision=correct / len(found) if found else 1.0,
                      recall=correct / len(wanted) if wanted else 1.0, correct=correct,
                      found=len(found), expected=len(wanted),
                      matched={n: c.name for n, c in matched.items()}, missed=missed)
