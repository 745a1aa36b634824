"""The sentence of a story that says what happened in its case, and a case's timeline."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from ..text import sentence_spans
from . import _names as cn
from ._model import Case, Story, TimelineEntry

# What a sentence reports, by kind; a sentence scores for each kind it reports once.
_EVENTS = {
    "ruling": re.compile(r"\b(?:ruled|rules|ruling|decision|judgment|granted|grants|denied|denies|"
                         r"dismissed|dismisses|threw out|throws out|tossed|upheld|rejected|"
                         r"refused|sided with|issued|handed down|certified|ordered|opinion|"
                         r"approval|approved|turned down|summons|"
                         r"(?:found|held|concluded)\b[^.]{0,60}?\bthat)\b", re.I),
    "settlement": re.compile(r"\b(?:settled|settles|settlement|agreed to pay|resolved)\b", re.I),
    "deal": re.compile(r"\b(?:agreement|deal|would pay)\b", re.I),
    "filing": re.compile(r"\b(?:filed|files|sued|sues|brought the (?:suit|complaint|case)|lodged|"
                         r"legal action|announced the (?:suit|lawsuit)|dropped|drops|abandoned|"
                         r"withdrew|withdrawn|amended)\b", re.I),
    "appeal": re.compile(r"\b(?:appeal|appeals court|appellate|interlocutory)\b", re.I),
    "trial": re.compile(r"\b(?:trial|jury|hearing)\b", re.I),
}
_WEIGHTS = {"ruling": 3.0, "settlement": 3.0, "deal": 1.0, "filing": 3.0, "appeal": 3.0,
            "trial": 1.5}
_PROCEEDING_RE = re.compile(r"\b(?:lawsuit|suit|case|claims?|legal action|complaint)\b|"
                            r"\s+vs?\.?\s+[A-Z]", re.I)
# Sentences that set the case beside others, or say what a party wants.
_CONTEXT_RE = re.compile(r"\b(?:adds? (?:to|a)|follow(?:s|ing)?|joins?|similar|growing (?:list|number)|"
                         r"wave of|string of|latest in|mirrors|echoes|contrasts?)\b", re.I)
_ASKING_RE = re.compile(r"\b(?:asking for|is asking|are asking|seeking|seeks|wants?|demanding)\b")
_COURT_RE = re.compile(r"\b(?:judge|court|justice|tribunal|chamber)\b", re.I)
_SAID_RE = re.compile(r"\b(?:said|says|told|added|argued|called|described|welcomed)\b")
_MONTHS = {m: i for i, m in enumerate(("jan feb mar apr may jun jul aug sep oct nov dec").split(),
                                      start=1)}
_DAY_DATE_RE = re.compile(
    r"\b(?:(?P<m1>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?\s+(?P<d1>\d{1,2})"
    r"(?:,?\s+(?P<y1>\d{4}))?|(?P<d2>\d{1,2})\s+(?P<m2>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|"
    r"Nov|Dec)[a-z]*\s+(?P<y2>\d{4}))\b")
_MONTH_YEAR_RE = re.compile(r"\b(?:in|since|last|early|late)\s+(?:(?P<m>Jan|Feb|Mar|Apr|May|Jun|"
                            r"Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\s+)?(?P<y>\d{4})\b")
_WEEKDAY_RE = re.compile(r"\b(?:on|late on|early on)\s+(?:Monday|Tuesday|Wednesday|Thursday|"
                         r"Friday|Saturday|Sunday)\b")


def _months_between(year: int, month: int, published: str) -> int:
    py, pm = int(published[:4]), int(published[5:7])
    return (py - year) * 12 + (pm - month)


def _recency(sentence: str, published: str | None) -> float:
    """+2 for a date at most a month from the story's own, -1.5 for one long before it
    (the filing recalled in a story about the ruling)."""
    if not published:
        return 1.0 if _DAY_DATE_RE.search(sentence) or _WEEKDAY_RE.search(sentence) else 0.0
    best: float | None = None
    for m in _DAY_DATE_RE.finditer(sentence):
        month = _MONTHS[(m.group("m1") or m.group("m2")).lower()[:3]]
        year = int(m.group("y1") or m.group("y2") or published[:4])
        gap = _months_between(year, month, published)
        if not (m.group("y1") or m.group("y2")) and gap < 0:
            gap += 12  # "on Dec. 27" in a January story
        score = 2.0 if -1 <= gap <= 1 else -1.5 if gap > 2 else 0.0
        best = score if best is None else max(best, score)
    if best is None and _WEEKDAY_RE.search(sentence):
        best = 1.5
    if best is None:
        for m in _MONTH_YEAR_RE.finditer(sentence):
            month = _MONTHS[m.group("m").lower()[:3]] if m.group("m") else 12
            if _months_between(int(m.group("y")), month, published) > 2:
                best = -1.5
    return best or 0.0


def _sentence_score(sentence: str, index: int, published: str | None,
                    parties: Sequence[str]) -> float:
    score = min(4.5, sum(_WEIGHTS[k] for k, r in _EVENTS.items() if r.search(sentence)))
    if score == 0:
        return -10.0  # says nothing happened
    recency = _recency(sentence, published)
    score += recency
    if _COURT_RE.search(sentence):
        score += 1.0
    if _PROCEEDING_RE.search(sentence):
        score += 1.0
    if _CONTEXT_RE.search(sentence):
        score -= 2.0
    if _ASKING_RE.search(sentence):
        score -= 1.5
    for name in cn.case_names(sentence):
        if parties and not cn.sides_meet(name.defendants, parties):
            score -= 3.0  # about another case
    folded = cn.fold(sentence)
    if any(w in folded for p in parties for w in cn.party_words(p) if w not in cn.WEAK_WORDS):
        score += 0.5
    if _SAID_RE.search(sentence) or sentence.count('"') + sentence.count("“") >= 2:
        score -= 1.5  # a reaction, not the event
    if len(sentence) < 40:
        score -= 2.0
    if index == 0 and recency <= 0:
        score -= 1.0  # an undated lead sums up; a later sentence gives the particulars
    return score


def what_happened(story: Story, case: Case | None = None) -> str:
    """The sentence of the story that says what happened in the case (a filing, ruling,
    settlement, appeal, trial date), copied exactly from `story.text`; the first sentence
    when none does."""
    spans = sentence_spans(story.text)
    if not spans:
        return story.text.strip()
    parties = (case.plaintiffs + case.defendants) if case else ()
    # On a tie the lead loses: it sums up; a later sentence gives the particulars.
    scored = [(_sentence_score(story.text[a:b], i, story.published, parties), i > 0, -i, a, b)
              for i, (a, b) in enumerate(spans)]
    *_, a, b = max(scored)
    return story.text[a:b]


def timeline(case: Case, stories: Iterable[Story]) -> list[TimelineEntry]:
    """One dated verbatim sentence for each of the case's stories, newest first (undated
    stories last)."""
    by_id = {s.story_id: s for s in stories}
    entries = [TimelineEntry(s.story_id, s.published, what_happened(s, case), s.outlet, s.url)
               for s in (by_id[i] for i in case.story_ids if i in by_id)]
    return sorted(entries, key=lambda e: (e.date is not None, e.date or ""), reverse=True)
