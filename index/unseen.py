"""Names a question gives that the index has never seen.

"What did the court say in Johansson's case against OpenAI?" over an index that
never mentions Johansson is not answered by the closest OpenAI story: the story
it asks about is not there. A name here is a capitalized word inside the question
(the first word is capitalized anyway); it is unseen when no passage or title holds
it and no indexed word is a near spelling of it (a typo of a known name is not a
new name).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Awaitable, Callable

from .query import fts_tokens
from .text import STOPWORDS

_WORD_RE = re.compile(r"[^\W\d_][\w'’-]*", re.UNICODE)
_SENTENCE_START_RE = re.compile(r"(?:^|[.!?:;]\s+|[\"“(¿¡]\s*)$")
MIN_LENGTH = 3
# How alike a known word must be to count as the same name misspelt (difflib's ratio).
NEAR_SPELLING = 0.8
PREFIX = 2  # near spellings are looked for among words sharing this many first letters


def capitalized_names(text: str) -> list[str]:
    """The capitalized words of a question that do not start a sentence, in order."""
    if text.upper() == text:  # shouting: capitals say nothing
        return []
    out: list[str] = []
    for m in _WORD_RE.finditer(text):
        word = re.sub(r"['’]s$", "", m.group(0)).strip("'’-")
        if len(word) < MIN_LENGTH or not word[0].isupper() or word.lower() in STOPWORDS:
            continue
        if _SENTENCE_START_RE.search(text[:m.start()]):
            continue
        if word not in out:
            out.append(word)
    return out


async def unseen_names(text: str, frequencies: dict[str, int],
                       lookup: Callable[[list[str]], Awaitable[dict[str, int]]],
                       prefixed: Callable[[str], Awaitable[list[str]]]) -> list[str]:
    """The question's names that no indexed passage holds, nor a near spelling of them.

    frequencies: document frequencies already looked up (porter-stemmed FTS terms);
    lookup fetches more, prefixed lists the indexed terms that start with a prefix.
    """
    names = capitalized_names(text)
    if not names:
        return []
    tokens = {name: fts_tokens(name) for name in names}
    missing = [t for ts in tokens.values() for t in ts if t not in frequencies]
    if missing:
        frequencies = {**frequencies, **await lookup(missing)}
    out = []
    for name, ts in tokens.items():
        unknown = [t for t in ts if not frequencies.get(t)]
        if not unknown:
            continue
        near = [_near(t, await prefixed(t[:PREFIX])) for t in unknown]
        if not any(near):
            out.append(name)
    return out


def _near(term: str, known: list[str]) -> bool:
    return bool(difflib.get_close_matches(term, known, n=1, cutoff=NEAR_SPELLING))
