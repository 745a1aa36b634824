"""Pick the sentence or two of a passage that answer the question, verbatim."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .text import STOPWORDS, stem, stems, word_spans


@dataclass
class Snippet:
    start: int  # offsets into the article text: text[start:end] is the snippet exactly
    end: int
    text: str
    highlights: list[tuple[int, int]] = field(default_factory=list)  # offsets within text
    leading_ellipsis: bool = False
    trailing_ellipsis: bool = False
    score: float = 0.0


def idf(df: int, n: int) -> float:
    return math.log(1 + (n - df + 0.5) / (df + 0.5))


def sentence_score(sentence: str, weights: dict[str, float], phrases: list[list[str]]) -> float:
    words = stems(sentence)
    present = set(words)
    score = sum(w for term, w in weights.items() if term in present)
    long_phrases = [p for p in phrases if len(p) > 1 and present.issuperset(p)]
    if long_phrases:
        joined = " " + " ".join(words) + " "
        for phrase in long_phrases:
            if " " + " ".join(phrase) + " " in joined:
                score += sum(weights.get(t, 0.0) for t in phrase) * 0.5
    return score


LEXICAL_SHARE = 0.6  # weight of query-term overlap next to the sentence's cosine similarity
LEAD_BONUS = 0.0  # news states the answer early: a bonus for an article's first sentence
NEIGHBOUR = 0.5  # a neighbouring sentence joins the snippet when it scores this share of the best


def choose(article_text: str, sentences: list[tuple[int, int]], weights: dict[str, float],
           phrases: list[list[str]], *, max_chars: int = 300,
           passage_bounds: tuple[int, int] | None = None,
           similarities: list[float] | None = None) -> Snippet:
    """The best sentence of a passage, plus a neighbour when it fits and helps.

    A sentence's score is its cosine similarity to the question (when given) plus
    a share of the IDF-weighted query terms it contains.
    """
    if not sentences:
        raise ValueError("a passage without sentences")
    total = sum(weights.values()) or 1.0
    lexical = [sentence_score(article_text[s:e], weights, phrases) / total for s, e in sentences]
    if similarities is not None:
        scores = [sim + LEXICAL_SHARE * lex for sim, lex in zip(similarities, lexical, strict=True)]
        first = article_text.find(article_text.strip()[:1]) if article_text.strip() else 0
        scores = [sc + (LEAD_BONUS if s <= first else 0.0)
                  for sc, (s, _) in zip(scores, sentences, strict=True)]
    else:
        scores = lexical
    # Earlier sentences win ties: news puts the answer first.
    best = max(range(len(sentences)), key=lambda i: (scores[i], -i))
    lo = hi = best
    length = sentences[best][1] - sentences[best][0]
    while True:
        options = []
        if hi + 1 < len(sentences):
            options.append((scores[hi + 1], 1, hi + 1))
        if lo - 1 >= 0:
            options.append((scores[lo - 1], 0, lo - 1))
        if not options:
            break
        gain, _, idx = max(options)
        s, e = sentences[idx]
        new_length = max(sentences[hi][1], e) - min(sentences[lo][0], s)
        # Add a neighbour if it is nearly as good, or if the best sentence alone is very short.
        good = gain >= scores[best] * NEIGHBOUR if similarities is not None else gain > 0
        if new_length > max_chars or (not good and length >= max_chars // 2):
            break
        lo, hi = min(lo, idx), max(hi, idx)
        length = new_length
    start, end = sentences[lo][0], sentences[hi][1]
    text = article_text[start:end]
    bounds = passage_bounds or (sentences[0][0], sentences[-1][1])
    return Snippet(start=start, end=end, text=text, highlights=highlight(text, weights),
                   leading_ellipsis=start > bounds[0] or start > 0,
                   trailing_ellipsis=end < len(article_text.rstrip()),
                   score=max(scores))


def highlight(text: str, weights: dict[str, float]) -> list[tuple[int, int]]:
    """Spans of the words in text that match a query term (merged when adjacent)."""
    spans: list[tuple[int, int]] = []
    for s, e, word in word_spans(text):
        if word in STOPWORDS:
            continue
        if stem(word) in weights:
            if spans and s - spans[-1][1] <= 1 and text[spans[-1][1]:s].strip() == "":
                spans[-1] = (spans[-1][0], e)
            else:
                spans.append((s, e))
    return spans
