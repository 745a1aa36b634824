"""Which ranked stories are worth showing for a question, and in what order.

The first story above the threshold always; further ones only while they stay close to
it and, when they score well below it, name a party the question and the first story
share; for "latest" questions the nearly-as-relevant stories newest first.
"""

from __future__ import annotations

import re

from .query import Query
from .ranking import Ranked
from .text import stem

LATEST_MARGIN = 0.10  # how far below the best relevance a newer story may be and still lead
# A further result is shown only when it is nearly as relevant as the first, or has
# the first's own standard of evidence besides: results #2, #3 and More pages must not
# drift to stories that merely share the topic.
FOLLOW_MARGIN = 0.25
# A story whose article contains a name the question gives in full ("Thaler v. Perlmutter",
# "Getty Images") is relevant this far below the threshold: the model may not see it.
NAMED_SLACK = 0.15
# A question word that more than this share of passages holds names no one party.
PARTY_SHARE = 0.1
# A further story scoring more than this below the first must name such a party.
PARTY_FREE = 0.1


def relevant(ranked: list[Ranked], threshold: float) -> list[Ranked]:
    """The stories worth showing: the best one above the threshold, and the rest only
    while they stay close to it."""
    above = [r for r in ranked if r.relevance >= threshold
             or (r.named and r.relevance >= threshold - NAMED_SLACK)]
    if not above:
        return []
    best = max(r.relevance for r in above)
    return [r for r in above if r is above[0] or r.relevance >= best - FOLLOW_MARGIN]


def same_parties(relevant: list[Ranked], query: Query, dfs: dict[str, int], passages: int,
                  texts: dict[int, str]) -> list[Ranked]:
    """The first story, and further ones only when they score close to it or name a party
    the question and the first story share: a question on Disney v. Midjourney is not
    followed by a story on other parties. The parties are the question's words that the
    first story's title gives as names (runs of capitalized words, "Thomson Reuters") and
    that few passages hold; a name of two words is found only as those two words."""
    if len(relevant) < 2:
        return relevant
    terms = {t for t in query.terms if dfs.get(t, 0) <= PARTY_SHARE * max(passages, 1)}
    phrases = []
    for run in re.findall(r"[A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*)*", relevant[0].article.title):
        kept = [stem(w) for w in run.split() if stem(w) in terms]
        if kept:
            phrases.append(r"\W+".join(re.escape(t) + r"\w{0,5}" for t in kept))
    if not phrases:
        return relevant
    pattern = re.compile(r"\b(?:" + "|".join(phrases) + r")\b")
    close = relevant[0].relevance - PARTY_FREE
    return [relevant[0], *(r for r in relevant[1:] if r.relevance >= close or (
        r.article.id in texts and pattern.search(f"{r.article.title} {texts[r.article.id]}".lower())))]


def newest_first(relevant: list[Ranked]) -> list[Ranked]:
    """The stories nearly as relevant as the best one, newest first, then the rest."""
    best = relevant[0].relevance
    lead = [c for c in relevant if c.relevance >= best - LATEST_MARGIN]
    rest = [c for c in relevant if c.relevance < best - LATEST_MARGIN]
    lead.sort(key=lambda c: (c.article.published or "", c.relevance), reverse=True)
    return lead + rest
