"""Turning a user's question into safe search inputs: cleaned text, terms, an FTS5 query."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from .answertype import AnswerType, question_type
from .answertype import ruler as question_ruler
from .answertype import speaker as question_speaker
from .errors import QueryError
from .text import STOPWORDS, clean_question, stem, words

MAX_QUESTION_CHARS = 1000  # the model reads ~256 tokens anyway; the rest is noise
MAX_TERMS = 24

# Capitalized runs such as "Getty Images", "Bartz v. Anthropic", "Sora 2".
_NAME_RE = re.compile(
    r"\b[A-Z][\w'’&-]*(?:\s+(?:v\.?|vs\.?|of|and|&|de|la)?\s*[A-Z0-9][\w'’&-]*)+")


_TOKEN_RE = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class Query:
    text: str  # cleaned question, for the embedding
    terms: list[str]  # porter stems of content words, unique
    phrases: list[list[str]]  # multi-word names as stem sequences
    fts: str | None  # an FTS5 MATCH expression with every token quoted, or None
    words: tuple[str, ...] = ()  # the unstemmed word behind each of `terms`
    name_phrases: tuple[str, ...] = ()  # multi-word names, unstemmed

    @cached_property
    def answer_type(self) -> AnswerType | None:
        """The kind of fact the question asks for (an amount, a date...), or None."""
        return question_type(self.text)

    @cached_property
    def speaker(self) -> frozenset[str]:
        """For "what did X say", the stems of X; empty otherwise."""
        return question_speaker(self.text)

    @cached_property
    def ruler(self) -> frozenset[str]:
        """For "what did X rule", the stems of the court or judge X; empty otherwise."""
        return question_ruler(self.text)

    @cached_property
    def word_set(self) -> frozenset[str]:
        """Every word of the question, lowercased (names the question already gives)."""
        return frozenset(w.lower().strip(".,'’") for w in words(self.text))

    @cached_property
    def lexical_pieces(self) -> list[tuple[str, tuple[str, ...]]]:
        """Each piece of the FTS5 query (a word, or a multi-word name) with the stemmed
        tokens FTS5 matches for it: "ai-generated" and "1.5" are two tokens each, like
        a name, because the tokenizer splits at anything that is not a letter or digit."""
        return [(piece, fts_tokens(piece)) for piece in (*self.words, *self.name_phrases)]

    def fts_of(self, pieces: list[str]) -> str | None:
        """The MATCH expression for some of the pieces; None when there are none."""
        return " OR ".join(_quote(p) for p in pieces) if pieces else None


def fts_tokens(text: str) -> tuple[str, ...]:
    """The porter-stemmed tokens SQLite's `porter unicode61` tokenizer makes of text."""
    return tuple(stem(t) for t in _TOKEN_RE.findall(text.lower()))


def _quote(token: str) -> str:
    # Inside double quotes FTS5 treats everything as text; a quote is escaped by doubling.
    return '"' + token.replace('"', '""') + '"'


def parse(question: str) -> Query:
    """Validate and prepare a question; QueryError when there is nothing to search for."""
    text = clean_question(question)
    if not text:
        raise QueryError("Ask a question in words, for example: What did Japan ask OpenAI about Sora 2?")
    text = text[:MAX_QUESTION_CHARS]
    tokens = [w for w in words(text) if any(ch.isalnum() for ch in w)]
    if not tokens:
        raise QueryError("That question has no words to search for.")
    content = [w for w in tokens if w not in STOPWORDS and (len(w) > 1 or w.isdigit())]
    terms: list[str] = []
    raw: list[str] = []
    for w in content or tokens:
        s = stem(w)
        if s and s not in terms:
            terms.append(s)
            # A possessive is the word: "tennessee's" would be the phrase "tennessee s".
            raw.append(re.sub(r"['’]s$", "", w) or w)
    terms, raw = terms[:MAX_TERMS], raw[:MAX_TERMS]
    phrases: list[list[str]] = []
    raw_phrases: list[str] = []
    for match in _NAME_RE.finditer(text):
        parts = words(match.group(0))
        stems = [stem(w) for w in parts]
        if len(parts) > 1 and stems not in phrases:
            phrases.append(stems)
            raw_phrases.append(" ".join(parts))
    # OR of every word, plus each multi-word name as a phrase: bm25 rewards passages
    # that match more, and rarer, words; a matched phrase ranks higher still. The
    # words go in unstemmed: the FTS5 porter tokenizer stems query and index alike.
    pieces = [_quote(w) for w in raw] + [_quote(p) for p in raw_phrases[:6]]
    fts = " OR ".join(pieces) if pieces else None
    return Query(text=text, terms=terms, phrases=phrases, fts=fts, words=tuple(raw),
                 name_phrases=tuple(raw_phrases[:6]))
