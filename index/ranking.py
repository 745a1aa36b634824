"""Fusing the dense and lexical candidates into one ranking of stories.

Dense similarity leads: a story's score is its best passage's cosine similarity
plus a bounded bonus for lexical evidence (bm25 relative to the question's best
lexical match). The bonus lets names, numbers and case names decide between
stories that dense search scores alike, but cannot bury a story that dense search
ranks high: the best dense stories are kept in the first places whatever the
bonus does (`keep_dense_top`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .query import Query
from .store import ArticleRow


@dataclass
class Candidate:
    passage_id: int
    dense: float | None  # cosine similarity; None until computed for lexical-only hits
    lexical: float  # bm25 relative to the best lexical hit of the question, 0..1


@dataclass
class Ranked:
    """A story's best passage and its scores."""

    passage_id: int
    article: ArticleRow
    dense: float  # best cosine similarity of the story's passages
    lexical: float  # best lexical evidence of the story's passages
    score: float  # what the story is ranked by
    coverage: float = 0.0  # IDF-weighted share of the question's terms the article contains
    named: bool = False  # the article contains a multi-word name the question gives
    sentence: float = 0.0  # mean similarity of the article's two sentences closest to the question
    relevance: float = field(init=False)  # how well the story answers the question

    def __post_init__(self) -> None:
        self.relevance = self.dense

    def absorb(self, passage_id: int, article: ArticleRow, dense: float, lexical: float,
               score: float) -> None:
        """Another passage of the same story: keep the best of each score."""
        if score > self.score:
            self.passage_id, self.article, self.score = passage_id, article, score
        self.dense = max(self.dense, dense)
        self.lexical = max(self.lexical, lexical)
        self.relevance = self.dense


def term_pattern(terms: list[str]) -> re.Pattern[str] | None:
    """One pattern finding every query stem's inflections in lowercased text: a stem at
    a word start, followed by at most a suffix ("settl" finds "settlement"). Longer stems
    come first, so that "openai" is not read as "open"."""
    if not terms:
        return None
    ordered = sorted(set(terms), key=len, reverse=True)
    return re.compile(r"\b(" + "|".join(re.escape(t) for t in ordered) + r")\w{0,5}\b")


def coverage(text: str, weights: dict[str, float], pattern: re.Pattern[str] | None) -> float:
    """The IDF-weighted share of the question's terms that occur in the (lowercased) text."""
    total = sum(weights.values())
    if total <= 0 or pattern is None:
        return 0.0
    found = {m.group(1) for m in pattern.finditer(text)}
    return sum(w for term, w in weights.items() if term in found) / total


def fuse(dense: dict[int, float], lexical: list[tuple[int, float]]) -> list[Candidate]:
    """Every passage either retriever found, with its dense and lexical evidence."""
    top = lexical[0][1] if lexical and lexical[0][1] > 0 else 0.0
    lex = {pid: (score / top if top else 0.0) for pid, score in lexical}
    return [Candidate(pid, dense.get(pid), lex.get(pid, 0.0))
            for pid in dict.fromkeys([*dense, *lex])]


def keep_dense_top(ranked: list[Ranked], keep: int, within: int) -> list[Ranked]:
    """The `keep` stories with the best dense similarity always among the first `within`:
    when the lexical evidence pushed one further down, the first places hold those
    stories and the best-scored others, still in score order."""
    if keep <= 0 or len(ranked) <= within:
        return ranked
    protected = {id(r) for r in sorted(ranked, key=lambda r: r.dense, reverse=True)[:keep]}
    if sum(id(r) in protected for r in ranked[:within]) == len(protected):
        return ranked
    others = [r for r in ranked if id(r) not in protected]
    chosen = protected | {id(r) for r in others[:within - len(protected)]}
    return [r for r in ranked if id(r) in chosen] + [r for r in ranked if id(r) not in chosen]


COMMON_SHARE = 0.1  # a word in more than this share of passages adds cost, not ranking
PHRASE_READ_COST = 1 / 16  # reading a posting's positions, relative to scoring a matched row


def lexical_query(query: Query, dfs: dict[str, int], n: int, max_rows: int) -> str | None:
    """The FTS5 query with the rarest words and names whose matches fit `max_rows`, or None.

    FTS5 computes bm25 for every passage that matches any piece of the query, so its
    cost grows with the matches of the commonest piece while bm25 gives a common word
    almost no weight. Words in more than a tenth of the passages are always left out;
    then pieces are taken rarest first while their estimated matches fit the budget. A
    piece of several tokens (a name, or a word such as "ai-generated") matches at most
    as many passages as its rarest token, and costs the reading of every token's
    positions besides. When nothing fits, the dense retriever alone ranks: a lexical
    ranking built from words that are everywhere adds noise, not evidence.
    """
    if not query.terms:
        return query.fts
    common_limit = max(1000, int(COMMON_SHARE * n))  # small indexes are cheap to score whole
    if n <= common_limit:
        return query.fts
    budgeted: list[tuple[int, float, str]] = []  # (estimated matches, cost, piece)
    for piece, tokens in query.lexical_pieces:
        counts = [dfs.get(t, 0) for t in tokens] or [0]
        matches = min(counts)
        if len(counts) == 1 and matches > common_limit:
            continue
        cost = matches + (PHRASE_READ_COST * sum(counts) if len(counts) > 1 else 0.0)
        budgeted.append((matches, cost, piece))
    kept: list[str] = []
    spent = 0.0
    for _matches, cost, piece in sorted(budgeted, key=lambda b: (b[0], b[1])):
        if spent + cost <= max_rows:
            spent += cost
            kept.append(piece)
    return query.fts_of(kept)
