"""Hybrid retrieval over one loaded snapshot.

dense top-N (FAISS) + lexical top-N (FTS5 bm25) -> one score per story, dense
first (a story dense search ranks high is never pushed out by lexical noise) ->
date filter or recency order -> abstain when nothing is relevant -> the sentences
that carry the asked-for fact, verbatim -> say so when none carries it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from . import answertype, dates, relevance, snippets, spelling, unseen, vectors
from .aliases import Aliases
from .errors import QueryError
from .query import Query, parse
from .ranking import Candidate, Ranked, coverage, fuse, keep_dense_top, lexical_query, term_pattern
from .results import Result, SearchResponse
from .timing import Timings

if TYPE_CHECKING:
    from .loaded import LoadedSnapshot
    from .rerank import Reranker
    from .spelling import Speller

def _today(now: dt.date | None) -> dt.date:
    return now or dt.datetime.now(dt.UTC).date()


@dataclass
class _Asked:
    """The question understood: its words as asked and as searched, their vectors and
    document frequencies, the date intent, and the names the index never mentions."""

    asked: Query  # as the user wrote it: the quote answers these words
    query: Query  # with descriptors expanded to the names they stand for: searched with these
    qvec: np.ndarray
    asked_vec: np.ndarray
    dfs: dict[str, int]
    weights: dict[str, float]  # snippet weights of the searched terms (IDF)
    unseen: list[str]
    intent: dates.DateIntent
    today: dt.date


async def search(snap: LoadedSnapshot, encode: Callable[[str], np.ndarray], question: str, *,
                 k: int = 3, offset: int = 0, now: dt.date | None = None,
                 min_relevance: float | None = None, reranker: Reranker | None = None,
                 check_facts: bool = True, aliases: Aliases | None = None,
                 speller: Speller | None = None) -> SearchResponse:
    """Understand the question, rank the stories, keep the relevant ones, quote a page."""
    cfg = snap.settings.search
    threshold = cfg.min_relevance if min_relevance is None else min_relevance
    timings = Timings()
    try:
        q = await _understand(snap, encode, question, aliases or Aliases(), now, check_facts,
                              timings, speller)
    except QueryError as exc:
        return SearchResponse(query=question[:200], abstained=True, results=[], error=str(exc),
                              snapshot=snap.name, passages_searched=snap.passages)
    ranked, texts, sentences = await _ranked(snap, q, reranker, timings)
    response = SearchResponse(query=q.asked.text, abstained=False, results=[],
                              date_filter=q.intent.label if q.intent.filters else None,
                              latest=q.intent.latest, snapshot=snap.name,
                              passages_searched=snap.passages)
    relevant = relevance.same_parties(relevance.relevant(ranked, threshold), q.query, q.dfs, snap.passages, texts)
    relevant = _in_period(relevant, q.intent, response)
    if not relevant:
        response.abstained = True
        response.timings_ms = timings.report()
        return response
    if q.intent.latest:
        relevant = relevance.newest_first(relevant)
        _note_staleness(relevant[0], q.today, cfg.stale_after_days, response)
    with timings("snippets"):
        page = relevant[offset:offset + k]
        response.has_more = len(relevant) > offset + k
        # "What's the latest on X", "what happened in March": news says what happened first.
        lead = q.intent.latest or q.intent.filters
        asked_weights = {t: w for t, w in q.weights.items() if t in q.asked.terms}
        response.results = await _results(snap, q.asked, q.asked_vec, asked_weights, page, texts,
                                          sentences if q.asked_vec is q.qvec else {},
                                          reranker, timings, prefer_lead=lead, encode=encode)
    if q.unseen and offset == 0:
        _unseen(q.unseen, response)
    elif check_facts and offset == 0:
        _check_fact(q.query, response)
    response.timings_ms = timings.report()
    return response


async def _understand(snap: LoadedSnapshot, encode: Callable[[str], np.ndarray], question: str,
                      aliases: Aliases, now: dt.date | None, check_facts: bool,
                      timings: Timings, speller: Speller | None = None) -> _Asked:
    """Parse (QueryError for a question that cannot be searched), correct its misspelt
    words, embed, look up the terms."""
    asked = parse(question)
    if speller is not None:
        with timings("spelling"):
            fixed = await spelling.correct(question, speller, snap.store.document_frequencies)
        if fixed != question:
            question, asked = fixed, parse(fixed)
    # Descriptors ("the mouse house") are searched with the names they stand for,
    # both lexically and in the embedded text; the quote answers the words asked.
    query = parse(aliases.expand(question))
    today = _today(now)
    with timings("embed"):
        qvec = await asyncio.to_thread(encode, query.text)
        # The quote is chosen by the question as asked, without the names appended.
        asked_vec = qvec if asked.text == query.text else await asyncio.to_thread(encode, asked.text)
    with timings("fts"):
        # One lookup for the snippet weights (query terms) and the FTS5 budget (its tokens).
        tokens = [t for _, piece_tokens in query.lexical_pieces for t in piece_tokens]
        dfs = await snap.store.document_frequencies([*query.terms, *tokens])
        weights = {t: snippets.idf(dfs.get(t, 0), max(snap.passages, 1)) for t in query.terms}
        # A question naming someone the index never mentions is about a story it does not
        # hold (descriptors are blanked first: they name someone known).
        names = (await unseen.unseen_names(aliases.blank(question), dfs,
                                           snap.store.document_frequencies,
                                           snap.store.terms_with_prefix)
                 if check_facts else [])
    return _Asked(asked, query, qvec, asked_vec, dfs, weights, names,
                  dates.parse(query.text, today), today)


async def _ranked(snap: LoadedSnapshot, q: _Asked, reranker: Reranker | None,
                  timings: Timings) -> tuple[list[Ranked], dict[int, str], dict[int, Sentences]]:
    """Every candidate story, best first, with the texts and sentence scores read on the way."""
    candidates = await _retrieve(snap, q.query, q.qvec, q.dfs, timings)
    with timings("fusion"):
        ranked = await _rank(snap, candidates, q.qvec)
        ranked, texts, sentences = await _rescore(snap, q.query, q.qvec, q.weights, ranked)
    if reranker is not None and ranked:
        with timings("rerank"):
            ranked, texts = await _rerank(snap, reranker, q.query, ranked, texts)
    return ranked, texts, sentences


def _in_period(relevant: list[Ranked], intent: dates.DateIntent,
               response: SearchResponse) -> list[Ranked]:
    """The stories of the asked-for period; the closest reports, with a notice, when none is."""
    if not intent.filters:
        return relevant
    in_range = [c for c in relevant if intent.contains(_date(c.article.published))]
    if not in_range and relevant:
        response.notice = f"Nothing in the index matches {intent.label}; showing the closest reports."
        return relevant
    return in_range


def _note_staleness(newest: Ranked, today: dt.date, stale_after_days: int,
                    response: SearchResponse) -> None:
    day = _date(newest.article.published)
    if day and (today - day).days > stale_after_days:
        response.notice = (f"The newest report on this in the index is from "
                           f"{day.isoformat()}; there may be later developments.")


def _date(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


async def _retrieve(snap: LoadedSnapshot, query: Query, qvec: np.ndarray, dfs: dict[str, int],
                    timings: Timings) -> list[Candidate]:
    cfg = snap.settings.search
    with timings("faiss"):
        scores, ids = await asyncio.to_thread(vectors.search, snap.vectors, qvec, cfg.dense_k)
    dense = {int(i): float(s) for s, i in zip(scores, ids, strict=True)}
    with timings("fts"):
        lexical: list[tuple[int, float]] = []
        match = lexical_query(query, dfs, snap.passages, cfg.lexical_max_rows)
        if match:
            lexical = await snap.store.lexical(match, cfg.lexical_k, cfg.title_weight)
    return fuse(dense, lexical)


async def _rank(snap: LoadedSnapshot, candidates: list[Candidate], qvec: np.ndarray) -> list[Ranked]:
    """One entry per story, best first."""
    if not candidates:
        return []
    # Lexical-only candidates have no cosine yet: compute it from their stored vectors.
    missing = [c.passage_id for c in candidates if c.dense is None]
    if missing:
        found = await asyncio.to_thread(snap.reconstruct, missing)
        for c in candidates:
            if c.passage_id in found:
                c.dense = float(np.dot(found[c.passage_id], qvec[0]))
    # Without their text: only the shown articles' text is read, for their snippets.
    owners = await snap.store.passage_articles(c.passage_id for c in candidates)
    cfg = snap.settings.search
    stories: dict[int, Ranked] = {}
    for c in candidates:
        article = owners.get(c.passage_id)
        if article is None or c.dense is None:  # a removed passage (approximate index tombstone)
            continue
        score = c.dense + cfg.lexical_bonus * c.lexical
        best = stories.get(article.story)
        if best is None:
            stories[article.story] = Ranked(c.passage_id, article, c.dense, c.lexical, score)
        else:
            best.absorb(c.passage_id, article, c.dense, c.lexical, score)
    return sorted(stories.values(), key=lambda r: r.score, reverse=True)


async def _rescore(snap: LoadedSnapshot, query: Query, qvec: np.ndarray,
                   weights: dict[str, float], ranked: list[Ranked]) -> tuple[list[Ranked], dict[int, str], dict[int, Sentences]]:
    """The leading stories re-scored with evidence from their whole article: how close
    its best sentences come to the question, and how much of the question's terms
    (names, numbers, rare words) it contains anywhere; the best dense stories are kept
    in front. Returns the ranking and the texts and sentences it read."""
    cfg = snap.settings.search
    head, tail = ranked[:cfg.rescore_k], ranked[cfg.rescore_k:]
    ids = [r.article.id for r in head]
    texts = await snap.store.article_texts(ids)
    spans = await snap.store.sentences_of_articles(ids)
    sentences = _sentence_similarities(snap, qvec, spans)
    pattern = term_pattern(list(weights))
    # "thaler v perlmutter" finds "Thaler v. Perlmutter": the words, whatever lies between.
    names = [re.compile(r"\b" + r"\W+".join(re.escape(w) for w in n.lower().split()) + r"\b")
             for n in query.name_phrases]
    for r in head:
        body = f"{r.article.title} {texts.get(r.article.id, '')}".lower()
        r.coverage = coverage(body, weights, pattern)
        r.named = any(n.search(body) for n in names)
        sims = sentences[r.article.id].sims
        r.sentence = float(np.mean(sorted(sims)[-2:])) if sims else r.dense
        r.score += cfg.sentence_weight * r.sentence + cfg.coverage_bonus * r.coverage
        r.relevance = r.dense + cfg.coverage_relevance * r.coverage
    head.sort(key=lambda r: r.score, reverse=True)
    return keep_dense_top(head + tail, cfg.dense_keep, cfg.dense_keep_within), texts, sentences


@dataclass
class Sentences:
    """An article's sentence spans, in order, each one's similarity to the question, and
    the rows of their stored vectors."""

    spans: list[tuple[int, int]]
    sims: list[float]
    rows: list[int]


def _sentence_similarities(snap: LoadedSnapshot, qvec: np.ndarray,
                           spans: dict[int, dict[tuple[int, int], int]]) -> dict[int, Sentences]:
    q = qvec[0].astype(np.float32)
    out = {}
    for article_id, rows in spans.items():
        pool = sorted(rows)
        at = [rows[s] for s in pool]
        vecs = np.asarray(snap.sentence_vectors[at], dtype=np.float32)
        out[article_id] = Sentences(pool, (vecs @ q).tolist() if pool else [], at)
    return out


async def _focus_similarities(snap: LoadedSnapshot, encode: Callable[[str], np.ndarray] | None,
                              question: str, page: list[Ranked], texts: dict[int, str],
                              sentences: dict[int, Sentences]) -> dict[int, list[float]]:
    """The first shown article's sentences' similarity to the question's focus: its words
    less those naming that article. The question's names say which article; its other
    words say which sentence answers. Only the first result's quote is chosen this way:
    each focus costs one more embedding (about 2 ms), and the first is the answer read."""
    if encode is None or snap.settings.search.focus_share <= 0:
        return {}
    wanted: dict[int, str] = {}
    for c in page[:1]:
        spans = sentences[c.article.id].spans
        if not spans:
            continue
        text = texts[c.article.id]
        focus = snippets.focus_question(question, c.article.title, text[spans[0][0]:spans[0][1]])
        if focus:
            wanted[c.article.id] = focus
    if not wanted:
        return {}
    distinct = list(dict.fromkeys(wanted.values()))
    vecs = await asyncio.to_thread(lambda: [encode(t)[0].astype(np.float32) for t in distinct])
    by_text = dict(zip(distinct, vecs, strict=True))
    out = {}
    for article_id, focus in wanted.items():
        rows = sentences[article_id].rows
        matrix = np.asarray(snap.sentence_vectors[rows], dtype=np.float32)
        out[article_id] = (matrix @ by_text[focus]).tolist()
    return out


async def _rerank(snap: LoadedSnapshot, reranker: Reranker, query: Query, ranked: list[Ranked],
                  texts: dict[int, str]) -> tuple[list[Ranked], dict[int, str]]:
    """The leading stories re-ordered by the cross-encoder's score of their best passage,
    mixed with their relevance; abstention still uses the relevance alone."""
    head, tail = ranked[:reranker.settings.candidates], ranked[reranker.settings.candidates:]
    unread = [r.article.id for r in head if r.article.id not in texts]
    if unread:
        texts = {**texts, **await snap.store.article_texts(unread)}
    passages = await snap.store.passages_by_ids(r.passage_id for r in head)
    docs = []
    for r in head:
        p = passages.get(r.passage_id)
        text = texts.get(r.article.id, "")
        docs.append(f"{r.article.title}. {text[p['start']:p['end']] if p else text}")
    scores = await asyncio.to_thread(reranker.score, query.text, docs)
    w = reranker.settings.weight
    for r, model_score in zip(head, scores, strict=True):
        r.score = w * model_score + (1 - w) * r.relevance
    head.sort(key=lambda r: r.score, reverse=True)
    return head + tail, texts


async def _results(snap: LoadedSnapshot, query: Query, qvec: np.ndarray, weights: dict[str, float],
                   page: list[Ranked], texts: dict[int, str], sentences: dict[int, Sentences],
                   reranker: Reranker | None, timings: Timings, *,
                   prefer_lead: bool = False,
                   encode: Callable[[str], np.ndarray] | None = None) -> list[Result]:
    cfg = snap.settings.search
    also = await snap.store.also_reported(c.article for c in page)
    kind = query.answer_type
    # The snippet is the best sentence (or two) anywhere in the article: each
    # sentence's vector was stored at ingest, so scoring them is a dot product.
    unread = [c.article.id for c in page if c.article.id not in texts]
    if unread:
        texts = {**texts, **await snap.store.article_texts(unread)}
    unscored = [c.article.id for c in page if c.article.id not in sentences]
    if unscored:
        spans = await snap.store.sentences_of_articles(unscored)
        sentences = {**sentences, **_sentence_similarities(snap, qvec, spans)}
    focus = await _focus_similarities(snap, encode, query.text, page, texts, sentences)
    out = []
    for c in page:
        article = c.article
        pool, sims = sentences[article.id].spans, sentences[article.id].sims
        asked_sims = sims
        if article.id in focus:
            share = cfg.focus_share
            sims = [(1 - share) * a + share * f for a, f in zip(sims, focus[article.id], strict=True)]
        if reranker is not None:
            with timings("rerank"):
                sims = await _rerank_sentences(reranker, query.text, texts[article.id], pool, sims)
        snip = snippets.choose(texts[article.id], pool, weights, query.phrases,
                               max_chars=cfg.snippet_chars, similarities=sims,
                               title=article.title, kind=kind, question_words=query.word_set,
                               prefer_lead=prefer_lead and kind is None,
                               answer_similarities=asked_sims,
                               speaker=query.speaker, ruled_by=query.ruler)
        others = also[article.id]
        out.append(Result(
            url=article.url, title=article.title, outlet=article.outlet,
            published=article.published, snippet=snip.text, score=round(c.score, 6),
            relevance=round(c.relevance, 4), highlights=snip.highlights,
            leading_ellipsis=snip.leading_ellipsis, trailing_ellipsis=snip.trailing_ellipsis,
            also_reported_by=[m.url for m in others],
            also_reported_by_outlets=[m.outlet for m in others],
            article_id=article.id, passage_id=c.passage_id, snippet_start=snip.start,
            carries_fact=snip.carries, parts=snip.parts))
    return out


async def _rerank_sentences(reranker: Reranker, question: str, text: str,
                            pool: list[tuple[int, int]], sims: list[float]) -> list[float]:
    """The sentence similarities with the cross-encoder's say mixed in for the article's
    most similar sentences; the rest keep the lowest mixed score so none overtakes them."""
    top = sorted(range(len(pool)), key=lambda i: sims[i], reverse=True)[:reranker.settings.sentences]
    scores = await asyncio.to_thread(reranker.score, question, [text[pool[i][0]:pool[i][1]] for i in top])
    w = reranker.settings.weight
    mixed = {i: w * sc + (1 - w) * sims[i] for i, sc in zip(top, scores, strict=True)}
    floor = min(mixed.values(), default=0.0)
    return [mixed.get(i, min(floor, (1 - w) * sims[i] + w * min(scores, default=0.0)))
            for i in range(len(pool))]


def _unseen(names: list[str], response: SearchResponse) -> None:
    """The closest coverage, flagged as not being about the names the question gives."""
    response.abstained = True
    quoted = " or ".join(f"“{n}”" for n in names[:3])
    response.notice = f"Nothing in the index mentions {quoted}; the closest coverage:"


def _check_fact(query: Query, response: SearchResponse) -> None:
    """A question after a specific fact that no shown quote carries is answered
    honestly: the closest coverage, flagged as not holding the fact."""
    kind = query.answer_type
    if kind is None or kind in answertype.SOFT_TYPES or not response.results:
        return
    if response.results[0].carries_fact:
        return
    response.abstained = True
    fact = answertype.FACT_NAMES[kind]
    response.notice = f"No report in the index gives the {fact}; the closest coverage:"
