"""Misspelt words of a question, corrected to words the index holds.

"what does reddit want from perplexty" shares no word with an article on Reddit v.
Perplexity, and "agianst", "downloded" and "punative" match nothing either. A word
that is neither an English word (pyspellchecker's dictionary) nor found in any passage
is corrected when one edit (a letter added, dropped, changed, or two swapped) turns it
into a dictionary word that the index does hold. Capitalized words are left alone:
a name the index does not know is what the unseen-name check reports ("Nothing in the
index mentions ..."), and a correction would hide it. So are short words, stopwords,
and words that would become stopwords ("doesnt" is not "does").
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from .text import STOPWORDS, stem

_WORD = re.compile(r"(?<![\w'’])[a-z][a-z]{3,}(?![\w'’])")
MIN_LENGTH = 4  # shorter words have too many one-edit neighbours to correct safely
MAX_CORRECTIONS = 8  # unknown words looked at per question (about 1 ms each)


@dataclass(frozen=True)
class Correction:
    word: str
    correct: str


class Speller:
    """The English dictionary, loaded once (about 0.2 s) and shared by every question."""

    def __init__(self) -> None:
        from spellchecker import SpellChecker

        # One edit: two edits cost up to half a second for a long unknown name.
        self._checker = SpellChecker(distance=1)

    def candidates(self, question: str) -> list[Correction]:
        """Each lowercase word unknown to the dictionary, with its one-edit correction."""
        words = [w for w in dict.fromkeys(m.group(0) for m in _WORD.finditer(question))
                 if w not in STOPWORDS]
        unknown = self._checker.unknown(words)
        out = []
        # A question of many unknown words is not misspelt English: a few are looked at.
        for word in [w for w in words if w in unknown][:MAX_CORRECTIONS]:
            fixed = self._checker.correction(word)
            if fixed and fixed != word and len(fixed) >= MIN_LENGTH and fixed not in STOPWORDS \
                    and fixed.isalpha():
                out.append(Correction(word, fixed))
        return out


async def correct(question: str, speller: Speller,
                  frequencies: Callable[[list[str]], Awaitable[dict[str, int]]]) -> str:
    """The question with its misspelt words corrected, where the index holds the
    correction and not the word as typed; the question itself when nothing needs it."""
    found = await asyncio.to_thread(speller.candidates, question)
    if not found:
        return question
    dfs = await frequencies(sorted({stem(s) for c in found for s in (c.word, c.correct)}))
    fixes = {c.word: c.correct for c in found
             if not dfs.get(stem(c.word), 0) and dfs.get(stem(c.correct), 0)}
    if not fixes:
        return question
    return _WORD.sub(lambda m: fixes.get(m.group(0), m.group(0)), question)
