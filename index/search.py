"""Hybrid retrieval over one loaded snapshot.

dense top-N (FAISS) + lexical top-N (FTS5 bm25) -> reciprocal rank fusion ->
date filter or recency order -> one hit per story -> verbatim snippets ->
abstain when the best evidence is not relevant enough.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from . import dates, snippets, vectors
from .errors import QueryError
from .query import Query, parse
from .results import Result, SearchResponse
from .store import ArticleRow

if TYPE_CHECKING:
    from .service import LoadedSnapshot

LATEST_MARGIN = 0.08  # how far below the best relevance a newer story may be and still lead


_Ranked = tuple[int, float, ArticleRow, float]


@dataclass
class _Candidate:
    passage_id: int
    fused: float
    dense: float  # cosine similarity, -1 when the passage was not in the dense top-N
    lexical_rank: int | None


def _today(now: dt.date | None) -> dt.date:
    return now or dt.datetime.now(dt.UTC).date()


async def search(snap: LoadedSnapshot, encode: Callable[[str], np.ndarray], question: str, *,
                 k: int = 3, offset: int = 0, now: dt.date | None = None,
                 min_relevance: float | None = None) -> SearchResponse:
    timings: dict[str, float] = {}
    cfg = snap.settings.search
    threshold = cfg.min_relevance if min_relevance is None else min_relevance
    try:
        query = parse(question)
    except QueryError as exc:
        return SearchResponse(query=question[:200], abstained=True, results=[], error=str(exc),
                              snapshot=snap.name, passages_searched=snap.passages)
    today = _today(now)
    intent = dates.parse(query.text, today)
    t0 = time.perf_counter()
    qvec = await asyncio.to_thread(encode, query.text)
    timings["embed"] = (time.perf_counter() - t0) * 1000
    t0 = time.perf_counter()
    # One lookup for the snippet weights (query terms) and the FTS5 budget (its tokens).
    tokens = [t for _, piece_tokens in query.lexical_pieces for t in piece_tokens]
    dfs = await snap.store.document_frequencies([*query.terms, *tokens])
    n_passages = snap.passages  # the vector count: one vector per passage
    timings["fts"] = (time.perf_counter() - t0) * 1000
    candidates = await _retrieve(snap, query, qvec, dfs, n_passages, timings)
    t0 = time.perf_counter()
    ranked = await _rank(snap, candidates, qvec)
    timings["fusion"] = (time.perf_counter() - t0) * 1000
    response = SearchResponse(query=query.text, abstained=False, results=[],
                              date_filter=intent.label if intent.filters else None,
                              latest=intent.latest, snapshot=snap.name,
                              passages_searched=snap.passages)
    relevant = [c for c in ranked if c[1] >= threshold]
    if intent.filters:
        in_range = [c for c in relevant if intent.contains(_date(c[2].published))]
        if not in_range and relevant:
            response.notice = f"Nothing in the index matches {intent.label}; showing the closest reports."
        else:
            relevant = in_range
    if not relevant:
        response.abstained = True
        timings["total"] = sum(timings.values())
        response.timings_ms = timings
        return response
    if intent.latest:
        best = relevant[0][1]
        lead = [c for c in relevant if c[1] >= best - LATEST_MARGIN]
        rest = [c for c in relevant if c[1] < best - LATEST_MARGIN]
        lead.sort(key=lambda c: (c[2].published or "", c[1]), reverse=True)
        relevant = lead + rest
        newest = _date(lead[0][2].published)
        if newest and (today - newest).days > cfg.stale_after_days:
            response.notice = (f"The newest report on this in the index is from "
                               f"{newest.isoformat()}; there may be later developments.")
    t0 = time.perf_counter()
    page = relevant[offset:offset + k]
    response.has_more = len(relevant) > offset + k
    members = await snap.store.story_members({c[2].story_id or c[2].id for c in page})
    weights = {t: snippets.idf(dfs.get(t, 0), max(n_passages, 1)) for t in query.terms}
    # The snippet is the best sentence (or two) anywhere in the article: each
    # sentence's vector was stored at ingest, so scoring them is a dot product.
    article_sentences = await snap.store.sentences_of_articles(c[2].id for c in page)
    texts = await snap.store.article_texts(c[2].id for c in page)
    q = qvec[0].astype(np.float32)
    for passage_id, relevance, article, fused in page:
        spans = article_sentences[article.id]
        pool = sorted(spans)
        rows = [spans[span] for span in pool]
        sims = (np.asarray(snap.sentence_vectors[rows], dtype=np.float32) @ q).tolist()
        snip = snippets.choose(texts[article.id], pool, weights, query.phrases,
                               max_chars=cfg.snippet_chars, similarities=sims)
        others = [m for m in members.get(article.story_id or article.id, []) if m.id != article.id]
        response.results.append(Result(
            url=article.url, title=article.title, outlet=article.outlet,
            published=article.published, snippet=snip.text, score=round(fused, 6),
            relevance=round(relevance, 4), highlights=snip.highlights,
            leading_ellipsis=snip.leading_ellipsis, trailing_ellipsis=snip.trailing_ellipsis,
            also_reported_by=[m.url for m in others],
            also_reported_by_outlets=[m.outlet for m in others],
            article_id=article.id, passage_id=passage_id, snippet_start=snip.start))
    timings["snippets"] = (time.perf_counter() - t0) * 1000
    timings["total"] = sum(timings.values())
    response.timings_ms = {key: round(v, 3) for key, v in timings.items()}
    return response


def _date(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


async def _retrieve(snap: LoadedSnapshot, query: Query, qvec: np.ndarray, dfs: dict[str, int],
                    n_passages: int, timings: dict[str, float]) -> list[_Candidate]:
    cfg = snap.settings.search
    t0 = time.perf_counter()
    scores, ids = await asyncio.to_thread(vectors.search, snap.vectors, qvec, cfg.dense_k)
    timings["faiss"] = (time.perf_counter() - t0) * 1000
    dense_scores = {int(i): float(s) for s, i in zip(scores, ids, strict=True)}
    t0 = time.perf_counter()
    lexical: list[tuple[int, float]] = []
    match = _lexical_query(query, dfs, n_passages, cfg.lexical_max_rows)
    if match:
        lexical = await snap.store.lexical(match, cfg.lexical_k, cfg.title_weight)
    timings["fts"] += (time.perf_counter() - t0) * 1000
    fused: dict[int, float] = {}
    for rank, pid in enumerate(dense_scores):
        fused[pid] = fused.get(pid, 0.0) + cfg.dense_weight / (cfg.rrf_k + rank + 1)
    lex_rank: dict[int, int] = {}
    for rank, (pid, _) in enumerate(lexical):
        lex_rank[pid] = rank
        fused[pid] = fused.get(pid, 0.0) + cfg.lexical_weight / (cfg.rrf_k + rank + 1)
    cands = [_Candidate(pid, score, dense_scores.get(pid, -1.0), lex_rank.get(pid))
             for pid, score in fused.items()]
    cands.sort(key=lambda c: c.fused, reverse=True)
    return cands


COMMON_SHARE = 0.1  # a word in more than this share of passages adds cost, not ranking
PHRASE_READ_COST = 1 / 16  # reading a posting's positions, relative to scoring a matched row


def _lexical_query(query: Query, dfs: dict[str, int], n: int, max_rows: int) -> str | None:
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


async def _rank(snap: LoadedSnapshot, candidates: list[_Candidate],
                qvec: np.ndarray) -> list[_Ranked]:
    """One (passage id, relevance, article, fused score) per story, best first."""
    if not candidates:
        return []
    # Lexical-only candidates have no cosine yet: compute it from their stored vectors.
    missing = [c.passage_id for c in candidates if c.dense < -0.5]
    if missing:
        found = await asyncio.to_thread(snap.reconstruct, missing)
        for c in candidates:
            if c.passage_id in found:
                c.dense = float(np.dot(found[c.passage_id], qvec[0]))
    # Without their text: only the shown articles' text is read, for their snippets.
    owners = await snap.store.passage_articles(c.passage_id for c in candidates)
    out: list[_Ranked] = []
    seen_stories: set[int] = set()
    for c in candidates:
        article = owners.get(c.passage_id)
        if article is None:  # a vector whose passage was removed (approximate index tombstone)
            continue
        story = article.story_id or article.id
        if story in seen_stories:
            continue
        seen_stories.add(story)
        out.append((c.passage_id, _relevance(c), article, c.fused))
    return out


def _relevance(c: _Candidate) -> float:
    """How well the passage answers the question, on the cosine scale."""
    return c.dense
