"""Pick the sentence or two of a passage that answer the question, verbatim."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

from .answertype import ROLES, AnswerType, carries, rulings, statements, undisclosed
from .display import omissions
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
    carries: bool = True  # holds the asked-for kind of fact (always True without one)
    # The article spans the text is made of: one, or two joined by " … ".
    parts: list[tuple[int, int]] = field(default_factory=list)


def idf(df: int, n: int) -> float:
    return math.log(1 + (n - df + 0.5) / (df + 0.5))


@lru_cache(maxsize=32768)
def sentence_stems(sentence: str) -> tuple[str, ...]:
    """The sentence's stems, kept for the sentences quoted most: an article shown again
    is not stemmed again."""
    return tuple(stems(sentence))


def sentence_score(sentence: str, weights: dict[str, float], phrases: list[list[str]]) -> float:
    words = sentence_stems(sentence)
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
# Question words that also name the article (in its title or first sentence) say which
# article, not which sentence: they count for this share of their weight.
IDENTIFYING_SHARE = 0.25
# For "what's the latest on X" and "what happened in March": the lead says what happened.
LEAD_BONUS = 0.3
JOINED_CHARS = 450  # the longest quote: two sentences, neighbours or joined by " … "
JOINER = " … "
TYPE_BONUS = 0.15  # a sentence holding the asked-for kind of fact (a number for "how many")


def focus_question(question: str, title: str, lead: str) -> str | None:
    """The question's words less those naming the article (found in its title or lead),
    or None when it has no such words, or nothing else. Over an article on OpenAI licensing
    the Associated Press's archive, "how far back does the AP archive licensed to OpenAI go"
    is "how far back does the ap to go": what is asked, not whom it is about."""
    named = set(stems(f"{title} {lead}")) - STOPWORDS
    words = [w for _, _, w in word_spans(question)]
    kept = [w for w in words if stem(w) not in named]
    if len(kept) == len(words) or not set(kept) - STOPWORDS:
        return None
    return " ".join(kept)


def focus_weights(weights: dict[str, float], named: set[str]) -> dict[str, float]:
    """The query-term weights with the article-identifying terms (stems) scaled down."""
    return {t: w * (IDENTIFYING_SHARE if t in named else 1.0) for t, w in weights.items()}


def choose(article_text: str, sentences: list[tuple[int, int]], weights: dict[str, float],
           phrases: list[list[str]], *, max_chars: int = JOINED_CHARS,
           similarities: list[float] | None = None, title: str = "",
           kind: AnswerType | None = None,
           question_words: frozenset[str] = frozenset(), prefer_lead: bool = False,
           answer_similarities: list[float] | None = None,
           speaker: frozenset[str] = frozenset(),
           ruled_by: frozenset[str] = frozenset()) -> Snippet:
    """The sentence of an article that answers the question, plus context when it fits.

    A sentence's score is its cosine similarity to the question (when given), plus a
    share of the IDF-weighted query terms it contains (terms that only identify the
    article count less), plus a bonus when it holds the kind of fact asked for next to
    one of the question's other words. When that answering sentence is not the best
    sentence overall, the quote joins the two ("A … B") if they fit in max_chars.
    answer_similarities, when given, are what a sentence holding the asked-for fact must
    come close to (the whole question's); similarities then only rank the sentences.
    speaker: for a "what did X say" question, the stems of X; ruled_by: for "what did X
    rule", the stems of X.
    """
    if not sentences:
        raise ValueError("a passage without sentences")
    lead = article_text[sentences[0][0]:sentences[0][1]]
    named = set(stems(f"{title} {lead}"))
    focus = focus_weights(weights, named)
    total = sum(focus.values()) or 1.0
    texts = [article_text[s:e] for s, e in sentences]
    stem_sets = [set(sentence_stems(t)) for t in texts]
    lexical = [sentence_score(t, focus, phrases) / total for t in texts]
    answering = _answering(texts, stem_sets, kind, question_words,
                           [t for t in weights if t not in named],
                           similarities if answer_similarities is None else answer_similarities,
                           speaker, ruled_by)
    bonus = [TYPE_BONUS if a else 0.0 for a in answering]
    if similarities is not None:
        scores = [sim + LEXICAL_SHARE * lex + b
                  for sim, lex, b in zip(similarities, lexical, bonus, strict=True)]
    else:
        scores = [lex + b for lex, b in zip(lexical, bonus, strict=True)]
    if prefer_lead:
        scores[0] += LEAD_BONUS
    # Earlier sentences win ties: news puts the answer first.
    order = sorted(range(len(sentences)), key=lambda i: (-scores[i], i))
    best = order[0]
    if any(answering) and not answering[best]:
        # The answering sentence leads; the best sentence overall joins it as context.
        answer = min((i for i, a in enumerate(answering) if a), key=lambda i: (-scores[i], i))
        # An answering neighbour continues the answer ("..., said Johnson. He described ...").
        follow = [i for i in (answer + 1, answer - 1) if 0 <= i < len(answering) and answering[i]]
        order = [answer, follow[0] if follow else best]
    runs = _pair(sentences, order, max_chars)
    snip = _snippet(article_text, sentences, runs, weights, scores)
    snip.carries = kind is None or any(answering[i] for lo, hi in runs for i in range(lo, hi + 1))
    return snip


def _pair(sentences: list[tuple[int, int]], order: list[int], max_chars: int) -> list[tuple[int, int]]:
    """The first sentence of `order`, with the next one when both fit in max_chars:
    one run when they are neighbours, else two joined by JOINER."""
    first = order[0]
    length = sentences[first][1] - sentences[first][0]
    for other in order[1:2]:
        lo, hi = min(first, other), max(first, other)
        other_length = sentences[other][1] - sentences[other][0]
        if hi - lo == 1 and sentences[hi][1] - sentences[lo][0] <= max_chars:
            return [(lo, hi)]
        if length + other_length + len(JOINER) <= max_chars:
            return [(lo, lo), (hi, hi)]
    return [(first, first)]


# The words that ask for the kind of fact are not what the fact must stand next to:
# "what did the court rule" is answered by a ruling, wherever the article says "ruled".
CUE_STEMS = {
    AnswerType.RULING: frozenset(stem(w) for w in (
        "rule", "ruling", "decide", "decision", "hold", "find", "conclude", "say", "win", "won",
        "lose", "lost", "prevail", "verdict", "outcome", "finally")),
    AnswerType.MONEY: frozenset(stem(w) for w in ("much", "money", "cost", "amount", "sum")),
    AnswerType.NUMBER: frozenset(stem(w) for w in ("many", "number")),
    AnswerType.DATE: frozenset(stem(w) for w in ("date", "day", "year", "month", "time")),
    AnswerType.DURATION: frozenset(stem(w) for w in ("long", "last", "run", "duration")),
    AnswerType.CLAIM: frozenset(stem(w) for w in ("claim", "count", "allegation", "theory")),
    AnswerType.CASE: frozenset(stem(w) for w in ("case", "precedent")),
    AnswerType.SPEECH: frozenset(stem(w) for w in (
        "say", "said", "argue", "claim", "tell", "told", "write", "wrote", "react", "respond",
        "think", "call", "demand", "want", "complain", "describe")),
}
# Kinds whose typed sentence answers wherever it stands in the article (see _answering).
ANSWERED_ANYWHERE = frozenset({AnswerType.DURATION, AnswerType.CLAIM, AnswerType.CASE})
# How far below the article's most similar sentence an answering sentence may score when
# it shares none of the question's words beyond the article's names.
UNFOCUSED_MARGIN = 0.05


def _answering(texts: list[str], stem_sets: list[set[str]], kind: AnswerType | None,
               question_words: frozenset[str], focus_terms: list[str],
               similarities: list[float] | None,
               speaker: frozenset[str] = frozenset(),
               ruled_by: frozenset[str] = frozenset()) -> list[bool]:
    """Which sentences hold the asked-for kind of fact about what the question asks.

    The fact must stand next to one of the question's own words that do not merely
    name the article (the "settle" of "how much did X pay to settle"), when the article
    contains any of them; an article worded wholly differently from the question is
    judged by the kind of fact alone."""
    if kind is None:
        return [False] * len(texts)
    if kind is AnswerType.SPEECH:
        typed = statements(texts, speaker, stem_sets=stem_sets)
    elif kind is AnswerType.RULING and ruled_by:
        typed = rulings(texts, ruled_by, stem_sets)
    else:
        typed = [carries(t, kind, question_words) for t in texts]
    cues = CUE_STEMS.get(kind, frozenset())
    present = {t for t in focus_terms if t not in cues and any(t in s for s in stem_sets)}
    if kind is AnswerType.WHO and ROLES & question_words:
        # "Which judge": the sentence naming the judge answers, wherever it stands.
        return typed
    # A statement by whoever the question names, a length of time, a claim or a case name
    # need not be among the sentences closest to the question, but it must be about what
    # the question asks (its words that name neither the article nor the speaker) when
    # the article has them.
    anywhere = kind in ANSWERED_ANYWHERE or (kind is AnswerType.SPEECH and bool(speaker))
    if anywhere:
        present -= speaker
    if similarities is None or anywhere:
        return [ty and (not present or bool(s & present)) for ty, s in zip(typed, stem_sets, strict=True)]
    # Otherwise the fact must be in one of the sentences closest to the question.
    best = max(similarities)
    # "Financial terms were not disclosed" answers a "how much" wherever it stands.
    hidden = kind in (AnswerType.MONEY, AnswerType.NUMBER, AnswerType.DATE)
    return [ty and (bool(s & present) or sim >= best - UNFOCUSED_MARGIN or (hidden and undisclosed(t)))
            for ty, s, sim, t in zip(typed, stem_sets, similarities, texts, strict=True)]


def _snippet(article_text: str, sentences: list[tuple[int, int]], runs: list[tuple[int, int]],
             weights: dict[str, float], scores: list[float]) -> Snippet:
    parts = [(sentences[lo][0], sentences[hi][1]) for lo, hi in runs]
    text = JOINER.join(article_text[s:e] for s, e in parts)
    start, end = parts[0][0], parts[-1][1]
    # "…" where the quote leaves out part of its paragraph (display's one rule).
    lead, tail = omissions(article_text, start, end)
    return Snippet(start=start, end=end, text=text, highlights=highlight(text, weights),
                   leading_ellipsis=lead, trailing_ellipsis=tail, score=max(scores), parts=parts)


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
