"""Finding a case from what a user typed: autocomplete and "did you mean"."""

from __future__ import annotations

import re
from collections.abc import Sequence
from difflib import SequenceMatcher, get_close_matches

from ._model import Case
from ._names import acronym, fold, name_key, party_words

# Typed words that say nothing about which case is meant.
_FILLER = frozenset({"v", "vs", "versus", "the", "and", "of", "in", "re", "case", "lawsuit",
                     "suit", "against", "co", "corp", "inc"})


def _typed_words(text: str) -> list[str]:
    return [w for w in re.findall(r"[a-z0-9]+", fold(text)) if w not in _FILLER]


def _vocabulary(case: Case) -> set[str]:
    """The words a user might type for a case: its names' words and the parties' acronyms."""
    words: set[str] = set()
    for name in (case.name, *case.aliases):
        words.update(_typed_words(name))
    for party in (*case.plaintiffs, *case.defendants):
        found = party_words(party)
        words.update(found)
        if len(found) >= 3:
            words.add(acronym(found))  # "nyt"
    return words - _FILLER


def _word_score(word: str, vocabulary: set[str]) -> float:
    if word in vocabulary:
        return 1.0
    if len(word) >= 2 and any(v.startswith(word) for v in vocabulary):
        return 0.95  # a name being typed: "anthr"
    best = max((SequenceMatcher(None, word, v).ratio() for v in vocabulary), default=0.0)
    return best * 0.9 if best >= 0.8 else 0.0  # a typo: "antropic"


def lookup(cases: Sequence[Case], typed: str, limit: int = 25) -> list[Case]:
    """Cases for autocomplete: every typed word must match a word of the case (exactly, as
    a prefix, or with a typo); better matches first, then the most recently active. With
    nothing typed, the most recently active cases."""
    words = _typed_words(typed)
    recent = sorted(cases, key=lambda c: (c.last or "", c.name), reverse=True)
    if not words:
        return recent[:limit]
    scored = []
    for rank, case in enumerate(recent):
        vocabulary = _vocabulary(case)
        scores = [_word_score(w, vocabulary) for w in words]
        if all(scores):
            exact = all(s >= 0.95 for s in scores)
            scored.append((not exact, -sum(scores) / len(scores) if not exact else 0.0, rank,
                           case))
    scored.sort(key=lambda item: item[:3])
    return [case for *_, case in scored[:limit]]


def closest_names(cases: Sequence[Case], name: str, limit: int = 3) -> list[str]:
    """The names of the cases nearest to a name that matches none, nearest first."""
    by_key: dict[str, str] = {}
    for case in cases:
        for written in (case.name, *case.aliases):
            by_key.setdefault(name_key(written), case.name)
    # Word by word first ("nyt v openai" is the Times' case, not the nearest short name),
    # then whole names by similarity ("Barts v Anthropic").
    out = [case.name for case in lookup(cases, name, limit)]
    for key in get_close_matches(name_key(name), list(by_key), n=limit * 3, cutoff=0.5):
        if by_key[key] not in out:
            out.append(by_key[key])
    return out[:limit]
