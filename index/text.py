"""Text utilities: sentence spans, word tokens, stems and query cleaning."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import blingfire
import snowballstemmer

# blingfire is ~70x faster than pysbd, which matters at a million passages, but it
# ends a sentence at "v." or "Mr.". Sentences that end in one of these
# abbreviations are joined with the next one.
_ABBREVIATIONS = frozenset(
    """v vs mr mrs ms dr prof sen rep gov gen st jr sr inc ltd co corp bros
    jan feb mar apr jun jul aug sep sept oct nov dec u.s e.g i.e et al cf approx dept
    fig hon mt rev""".split()
)

_WORD_RE = re.compile(r"[\w][\w'’.-]*[\w]|[\w]", re.UNICODE)
# Zero-width characters, bidirectional controls and other format characters.
_INVISIBLE_RE = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\u00ad]")

STOPWORDS = frozenset(
    """a about above after again against all am an and any are aren't as at be because been
    before being below between both but by can can't cannot could couldn't did didn't do does
    doesn't doing don't down during each few for from further had hadn't has hasn't have haven't
    having he he'd he'll he's her here here's hers herself him himself his how how's i i'd i'll
    i'm i've if in into is isn't it it's its itself let's me more most mustn't my myself no nor
    not of off on once only or other ought our ours ourselves out over own same shan't she
    she'd she'll she's should shouldn't so some such than that that's the their theirs them
    themselves then there there's these they they'd they'll they're they've this those through
    to too under until up very was wasn't we we'd we'll we're we've were weren't what what's
    when when's where where's which while who who's whom why why's with won't would wouldn't
    you you'd you'll you're you've your yours yourself yourselves tell know anything something
    happened happen happening news say said says get got going did does please thanks hey hi
    any there's whats whos hows also just now still ever really much many lot new latest newest
    recent recently""".split()
)

# The Porter algorithm, like SQLite FTS5's porter tokenizer, so stems agree with the index.
_stemmer = snowballstemmer.stemmer("porter")


# Discord mentions: @everyone and @here (not inside an address such as press@here.example),
# users <@id> and <@!id>, roles <@&id>, channels <#id>.
_MENTION_RE = re.compile(r"(?<![\w@])@(?:everyone|here)\b|<(?:@[!&]?|#)\d+>", re.IGNORECASE)


def strip_mentions(text: str) -> str:
    """`text` without Discord mentions: they name people and channels, not what is asked."""
    return _MENTION_RE.sub(" ", text)


def clean_question(text: str) -> str:
    """Normalize a user's question: NFKC, no invisible or control characters, no Discord
    mentions, single spaces."""
    text = unicodedata.normalize("NFKC", text)
    text = _INVISIBLE_RE.sub("", text)
    text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text)
    return " ".join(strip_mentions(text).split())


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentence boundaries of text[start:end] as absolute (start, end) character offsets."""
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    # Paragraph breaks always end a sentence, whatever the splitter thinks.
    for para in re.finditer(r"[^\n]+", text[start:end]):
        chunk = para.group(0)
        if not chunk.strip():
            continue
        base = start + para.start()
        _, offsets = blingfire.text_to_sentences_and_offsets(chunk)
        merged: list[list[int]] = []
        for s, e in _split_missed(chunk, offsets):
            if merged and _ends_with_abbreviation(chunk[merged[-1][0]:merged[-1][1]]):
                merged[-1][1] = e
            else:
                merged.append([s, e])
        for s, e in merged:
            piece = chunk[s:e]
            lead = len(piece) - len(piece.lstrip())
            trail = len(piece) - len(piece.rstrip())
            if e - trail > s + lead:
                spans.append((base + s + lead, base + e - trail))
    return spans


_MISSED_RE = re.compile(r"(\w+)\.\s+(?=[A-Z\"“‘'])")


def _split_missed(chunk: str, offsets: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Split where blingfire missed a boundary ("joined in. Digital Minister")."""
    out: list[tuple[int, int]] = []
    for s, e in offsets:
        start = s
        for m in _MISSED_RE.finditer(chunk, s, e):
            word = m.group(1)
            if len(word) < 2 or not word.islower() or word in _ABBREVIATIONS:
                continue
            out.append((start, m.start(1) + len(word) + 1))
            start = m.end()
        out.append((start, e))
    return out


def _ends_with_abbreviation(sentence: str) -> bool:
    match = re.search(r"(\S+)\.$", sentence)
    if not match:
        return False
    word = match.group(1).lower().lstrip("(\"'“‘")
    return word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha())


def words(text: str) -> list[str]:
    """Lower-cased word tokens."""
    return [m.group(0).lower().strip(".'’-") for m in _WORD_RE.finditer(text)]


def word_spans(text: str) -> list[tuple[int, int, str]]:
    """Word tokens with their offsets in text."""
    out = []
    for m in _WORD_RE.finditer(text):
        token = m.group(0)
        stripped = token.rstrip(".'’-")
        out.append((m.start(), m.start() + len(stripped), stripped.lower()))
    return out


def stems(text: str) -> list[str]:
    """The stem of every word token of text, in order (word_spans' words, stemmed)."""
    return [stem(w.rstrip(".'’-")) for w in _WORD_RE.findall(text.lower())]


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    word = word.lower().replace("’", "'")
    if word.endswith("'s"):
        word = word[:-2]
    return str(_stemmer.stemWord(word))


def content_terms(text: str) -> list[str]:
    """Stems of the words that carry meaning (no stopwords), in order, unique."""
    seen: dict[str, None] = {}
    for word in words(text):
        if word in STOPWORDS or not any(ch.isalnum() for ch in word):
            continue
        seen.setdefault(stem(word), None)
    return list(seen)


def word_count(text: str) -> int:
    return len(text.split())
