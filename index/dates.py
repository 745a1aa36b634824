"""What a question says about time, read with rules rather than a language model."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass


def utc_now() -> str:
    """Now in UTC as stored in the index's and the feed state's tables (ISO, seconds)."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
_MONTHS["sept"] = 9
_MONTH_RE = "|".join(sorted(_MONTHS, key=len, reverse=True))

_LATEST_RE = re.compile(
    r"\b(latest|newest|most recent|recent(?:ly)?|lately|up ?dates?|current(?:ly)?|right now|"
    r"these days|so far|new developments?|what(?:'s| is) new|any news|happened last|"
    r"what happened next|where (?:do|does) .* stand|status)\b", re.I)


@dataclass(frozen=True)
class DateIntent:
    """since/until filter publication dates; latest asks for the newest evidence first."""

    since: dt.date | None = None
    until: dt.date | None = None
    latest: bool = False
    label: str | None = None

    @property
    def filters(self) -> bool:
        return self.since is not None or self.until is not None

    def contains(self, day: dt.date | None) -> bool:
        if day is None:
            return not self.filters
        if self.since and day < self.since:
            return False
        return not (self.until and day > self.until)


def _month_range(year: int, month: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])


def _last_month_named(month: int, today: dt.date) -> int:
    """The year of the most recent month with this name that is not in the future."""
    return today.year if month <= today.month else today.year - 1


def parse(question: str, today: dt.date) -> DateIntent:
    q = question.lower()
    latest = bool(_LATEST_RE.search(q))
    m = re.search(r"\b(?:in the )?(?:last|past) (\d{1,3}) (day|week|month|year)s?\b", q)
    if m:
        n, unit = int(m.group(1)), m.group(2)
        days = {"day": 1, "week": 7, "month": 31, "year": 366}[unit] * n
        return DateIntent(today - dt.timedelta(days=days), today, True, m.group(0))
    simple = {
        "today": (today, today),
        "yesterday": (today - dt.timedelta(days=1), today - dt.timedelta(days=1)),
        "this week": (today - dt.timedelta(days=today.weekday()), today),
        "last week": (today - dt.timedelta(days=today.weekday() + 7),
                      today - dt.timedelta(days=today.weekday() + 1)),
        "past week": (today - dt.timedelta(days=7), today),
        "this month": (today.replace(day=1), today),
        "past month": (today - dt.timedelta(days=31), today),
        "this year": (today.replace(month=1, day=1), today),
    }
    for phrase, (since, until) in simple.items():
        if re.search(rf"\b{phrase}\b", q):
            return DateIntent(since, until, True, phrase)
    if re.search(r"\blast month\b", q):
        first = today.replace(day=1) - dt.timedelta(days=1)
        return DateIntent(*_month_range(first.year, first.month), True, "last month")
    if re.search(r"\blast year\b", q):
        return DateIntent(dt.date(today.year - 1, 1, 1), dt.date(today.year - 1, 12, 31), latest,
                          "last year")
    m = re.search(rf"\b(since|after|from|before|until|in|during|of)\s+(?:early |late |mid-?)?"
                  rf"({_MONTH_RE})\.?,?\s*(\d{{4}})?\b", q)
    if m:
        month = _MONTHS[m.group(2)]
        year = int(m.group(3)) if m.group(3) else _last_month_named(month, today)
        first, last = _month_range(year, month)
        return _bounded(m.group(1), first, last, latest, m.group(0))
    m = re.search(r"\b(since|after|from|before|until|in|during|of)\s+(?:early |late |mid-?)?"
                  r"((?:19|20)\d{2})\b", q)
    if m:
        year = int(m.group(2))
        return _bounded(m.group(1), dt.date(year, 1, 1), dt.date(year, 12, 31), latest, m.group(0))
    m = re.search(rf"\b({_MONTH_RE})\.?,?\s+((?:19|20)\d{{2}})\b", q)
    if m:
        first, last = _month_range(int(m.group(2)), _MONTHS[m.group(1)])
        return DateIntent(first, last, latest, m.group(0))
    return DateIntent(latest=latest)


def _bounded(word: str, first: dt.date, last: dt.date, latest: bool, label: str) -> DateIntent:
    if word in {"since", "after"}:
        return DateIntent(first if word != "after" else last + dt.timedelta(days=1), None, True, label)
    if word in {"before", "until"}:
        return DateIntent(None, first - dt.timedelta(days=1) if word == "before" else last, latest, label)
    return DateIntent(first, last, latest, label)
