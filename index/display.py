"""How a quote and a date read, the same in the CLI, the terminal session and Discord.

One rule for quotes: a quote is verbatim article text in curly quotes; "…" stands where
it leaves out part of its paragraph (before it when it does not start a paragraph, after
it when it does not end one), touching the text with no space between, so that a line
break can never leave a "…" on its own. A quote too long for its room is cut after a
whole sentence, or else after a whole word, never inside one. Dates read "3 Oct 2025".
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from .text import sentence_spans

ELLIPSIS = "…"
QUOTE_OPEN, QUOTE_CLOSE = "“", "”"
UNDATED = "undated"
# A lede in a list of stories (/latest, `latest`): room for one or two sentences.
LEDE_CHARS = 320
# A sentence boundary is preferred to a later word boundary when it keeps this share of it.
SENTENCE_SHARE = 0.6

_ISO_DATE = re.compile(r"\b(\d{4}-\d{2}-\d{2})(?:T[0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?)?\b")
_MARKUP = "*"  # bold markers the bot puts around words ("**Sora**"): not text


def human_date(published: str | None) -> str:
    """A date like "3 Oct 2025" from an ISO one; "undated" when unknown or unreadable."""
    if not published:
        return UNDATED
    try:
        day = dt.date.fromisoformat(published[:10])
    except ValueError:
        return UNDATED
    return f"{day.day} {day:%b %Y}"


def human_dates(text: str) -> str:
    """Running text (a notice) with every ISO date in it written as `human_date` writes it."""
    def one(match: re.Match[str]) -> str:
        shown = human_date(match.group(1))
        return match.group(0) if shown == UNDATED else shown
    return _ISO_DATE.sub(one, text)


def omissions(text: str, start: int, end: int) -> tuple[bool, bool]:
    """Whether a quote of text[start:end] leaves out the start of its paragraph, and its end.

    Paragraphs are the lines of an article's stored text.
    """
    before = text[:start].rstrip(" \t")
    after = text[end:].lstrip(" \t")
    return bool(before) and not before.endswith("\n"), bool(after) and not after.startswith("\n")


def ellipsized(body: str, *, lead: bool, tail: bool) -> str:
    """`body` with "…" touching it where the article goes on (no space, no doubled "…")."""
    if lead:
        body = body.lstrip()
        if not body.lstrip(_MARKUP).startswith(ELLIPSIS):
            body = ELLIPSIS + body
    if tail:
        body = body.rstrip()
        if not body.rstrip(_MARKUP).endswith(ELLIPSIS):
            body += ELLIPSIS
    return body


def quoted(body: str, *, lead: bool, tail: bool) -> str:
    """ "“…body…”": the quote marks and the ellipses of the one rule."""
    return QUOTE_OPEN + ellipsized(body, lead=lead, tail=tail) + QUOTE_CLOSE


def cut_points(text: str) -> tuple[list[int], list[int]]:
    """Where a shortened `text` may end: after a whole sentence, or before a space.

    Sentences are the index's own (abbreviations such as "v." and "Mr." do not end one).
    """
    sentences = [end for _, end in sentence_spans(text) if end < len(text)]
    words = [m.start() for m in re.finditer(r"\s+", text) if m.start() > 0]
    return sentences, words


def shorten_to_fit(text: str, fits: Callable[[str, bool], bool]) -> tuple[str, bool]:
    """The longest prefix of `text`, cut after a sentence or a word, for which
    `fits(prefix, truncated)` holds; returns (prefix, truncated).

    A sentence boundary wins when it keeps at least SENTENCE_SHARE of what a word
    boundary would. Only a text with no space that fits is cut inside a word.
    """
    if fits(text, False):
        return text, False
    sentences, words = cut_points(text)
    best_word = _largest(words, lambda i: fits(text[:i].rstrip(), True))
    best_sentence = _largest(sentences, lambda i: fits(text[:i].rstrip(), True))
    if best_sentence and (best_word is None or best_sentence >= SENTENCE_SHARE * best_word):
        return text[:best_sentence].rstrip(), True
    if best_word:
        return text[:best_word].rstrip(), True
    # No boundary fits (one enormous word): cut characters.
    cut = _largest(list(range(1, len(text))), lambda i: fits(text[:i], True))
    return (text[:cut], True) if cut else ("", True)


def shorten(text: str, limit: int) -> tuple[str, bool]:
    """`text` cut (see `shorten_to_fit`) to at most `limit` characters with its "…"."""
    return shorten_to_fit(text, lambda t, cut: len(t) + (len(ELLIPSIS) if cut else 0) <= limit)


def _largest(candidates: list[int], ok: Callable[[int], bool]) -> int | None:
    """The largest candidate for which ok() holds, assuming ok is monotone (binary search)."""
    lo, hi, best = 0, len(candidates) - 1, None
    while lo <= hi:
        mid = (lo + hi) // 2
        if candidates[mid] > 0 and ok(candidates[mid]):
            best = candidates[mid]
            lo = mid + 1
        else:
            hi = mid - 1
    return best
