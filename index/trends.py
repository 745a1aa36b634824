"""Stories per week (or per month) over a recent span: the numbers behind /trends.

Pure: no I/O, no clock. The caller passes the story dates and today's date.

API
---
- `trend(dates, *, weeks, today, topic=None) -> Trend` counts the dates per ISO week
  (weeks start on Monday) for the last `weeks` weeks, the week containing `today`
  included (so the last bucket is usually partial), zero-filled. When `weeks` is above
  52 the counts are per calendar month instead, over the months that cover the same
  span: the first month is counted whole, from its 1st, so that every bucket means the
  same thing. `None` dates, dates before the window and dates after `today` are
  ignored; datetimes count on their calendar date.
- `check_weeks(value) -> int` validates a user's `weeks` (a whole number from
  `MIN_WEEKS` to `MAX_WEEKS`; a string of digits is accepted, as typed in a terminal)
  and raises `ValueError` with one sentence meant to be shown to the user.
  `trend()` calls it too. `DEFAULT_WEEKS` is the span when none is given.
- `Trend` holds the buckets (`Bucket(start, end, count)`, `end` exclusive) and gives
  `total`, `counts`, `busiest`, `empty`, plus three renderings of the numbers:
  `summary()` (one English sentence for the reply), `alt_text()` (at most
  `ALT_TEXT_LIMIT` characters for the image's description, per bucket when it fits,
  per coarser period otherwise) and `sparkline()` (one block character per bucket).

The chart itself is drawn by `index.chart`. An all-zero trend is valid here; callers
are expected to answer "no stories" rather than show it (see `Trend.empty`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

MIN_WEEKS = 1
MAX_WEEKS = 520  # ten years
DEFAULT_WEEKS = 12
MONTHLY_ABOVE = 52  # more weeks than this are counted per calendar month

# Discord's limit on an attachment's description (its alt text).
ALT_TEXT_LIMIT = 1024

SPARK_LEVELS = "▁▂▃▄▅▆▇█"

Unit = Literal["week", "month"]

_MONTH_ABBR = ("Jan", "Feb", "Mar", "Apr", "May", "Jun",
               "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def check_weeks(value: object) -> int:
    """`value` as a number of weeks, or ValueError with one sentence saying what is allowed."""
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and re.fullmatch(r"[+-]?[0-9]{1,12}", value.strip()):
        number = int(value.strip())
    if number is None:
        raise ValueError(f"weeks must be a whole number between {MIN_WEEKS} and {MAX_WEEKS}; "
                         f"got {_shown(value)}.")
    if not MIN_WEEKS <= number <= MAX_WEEKS:
        raise ValueError(f"weeks must be between {MIN_WEEKS} and {MAX_WEEKS}; got {_shown(number)}.")
    return number


def _shown(value: object) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 40 else text[:39] + "…"


# ------------------------------------------------------------------------------ dates


def format_day(day: dt.date, *, year: bool = True) -> str:
    """"7 Dec 2026" (or "7 Dec"), in English whatever the locale."""
    text = f"{day.day} {_MONTH_ABBR[day.month - 1]}"
    return f"{text} {day.year}" if year else text


def format_month(day: dt.date) -> str:
    """"Dec 2026"."""
    return f"{_MONTH_ABBR[day.month - 1]} {day.year}"


def week_start(day: dt.date) -> dt.date:
    """The Monday of the ISO week containing `day`."""
    return day - dt.timedelta(days=day.weekday())


def _month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _next_month(day: dt.date) -> dt.date:
    return dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)


# ------------------------------------------------------------------------------ model


@dataclass(frozen=True)
class Bucket:
    """`count` stories dated from `start` (included) to `end` (excluded)."""

    start: dt.date
    end: dt.date
    count: int


@dataclass(frozen=True)
class Trend:
    """Stories per `unit` over the last `weeks` weeks to `today`, oldest bucket first.

    The last bucket is the one containing `today` and only counts up to it.
    """

    topic: str | None
    unit: Unit
    buckets: list[Bucket]
    today: dt.date
    weeks: int

    @property
    def total(self) -> int:
        return sum(b.count for b in self.buckets)

    @property
    def counts(self) -> list[int]:
        return [b.count for b in self.buckets]

    @property
    def empty(self) -> bool:
        """No story in the span: say so instead of showing a chart of zeros."""
        return self.total == 0

    @property
    def start(self) -> dt.date:
        return self.buckets[0].start

    @property
    def busiest(self) -> Bucket | None:
        """The bucket with the most stories (the most recent one on a tie); None if empty."""
        if self.empty:
            return None
        top = max(self.counts)
        return next(b for b in reversed(self.buckets) if b.count == top)

    # -------------------------------------------------------------------- renderings

    def label(self, bucket: Bucket, *, year: bool = True) -> str:
        """How a bucket is named: its Monday for weeks ("16 Nov 2026"), else "Nov 2026"."""
        if self.unit == "week":
            return format_day(bucket.start, year=year)
        return format_month(bucket.start)

    def _about(self) -> str:
        return f' about "{self.topic}"' if self.topic else ""

    def _span(self) -> str:
        n = len(self.buckets)
        if n == 1:
            return f"the {self.unit} to {format_day(self.today)}"
        return f"the {n} {self.unit}s to {format_day(self.today)}"

    def summary(self) -> str:
        """One sentence with the numbers, e.g.

        '42 stories in the 12 weeks to 7 Dec 2026; busiest week 16 Nov 2026 (9);
        this week so far 3.'
        """
        busiest = self.busiest
        if busiest is None:
            return f"No stories{self._about()} in {self._span()}."
        parts = [f"{_stories(self.total)}{self._about()} in {self._span()}"]
        if len(self.buckets) > 1:
            parts.append(f"busiest {self.unit} {self.label(busiest)} ({busiest.count})")
            parts.append(f"this {self.unit} so far {self.buckets[-1].count}")
        return "; ".join(parts) + "."

    def alt_text(self, limit: int = ALT_TEXT_LIMIT) -> str:
        """A description of the chart for screen readers, at most `limit` characters.

        Gives every bucket's count when that fits; otherwise the counts per month (weeks
        by the month of their Monday) or per year, with the busiest bucket named.
        """
        per = "week" if self.unit == "week" else "month"
        first = self.label(self.buckets[0])
        head = (f"Bar chart of stories per {per}{self._about()}, {len(self.buckets)} "
                f"{per}{'s' if len(self.buckets) != 1 else ''} from {first} to "
                f"{format_day(self.today)}: {_stories(self.total)} in total.")
        if self.empty:
            return _clip(head + f" Every {per} is zero.", limit)
        lead = "Weeks starting " if self.unit == "week" else "Months: "
        detailed = head + " " + lead + _listing(self._entries()) + "."
        if len(detailed) <= limit:
            return detailed
        busiest = self.busiest
        assert busiest is not None
        tail = (f" Busiest {per}: {self.label(busiest)} with {busiest.count};"
                f" this {per} so far: {self.buckets[-1].count}.")
        for name, groups in self._coarser():
            text = head + f" Per {name}: " + _listing(groups) + "." + tail
            if len(text) <= limit:
                return text
        return _clip(head + tail, limit)

    def _entries(self) -> list[tuple[str, int]]:
        out = []
        previous_year: int | None = None
        for b in self.buckets:
            if self.unit == "week":
                name = format_day(b.start, year=b.start.year != previous_year)
                previous_year = b.start.year
            else:
                name = format_month(b.start)
            out.append((name, b.count))
        return out

    def _coarser(self) -> list[tuple[str, list[tuple[str, int]]]]:
        options: list[tuple[str, list[tuple[str, int]]]] = []
        if self.unit == "week":
            options.append(("month", _group(self.buckets, format_month)))
        options.append(("year", _group(self.buckets, lambda d: str(d.year))))
        return options

    def sparkline(self) -> str:
        """One character per bucket from "▁" (none) to "█" (the busiest)."""
        counts = self.counts
        top = max(counts, default=0)
        if top == 0:
            return SPARK_LEVELS[0] * len(counts)
        steps = len(SPARK_LEVELS) - 1
        return "".join(
            SPARK_LEVELS[0 if c == 0 else max(1, round(c / top * steps))] for c in counts)


def _stories(n: int) -> str:
    return f"{n} {'story' if n == 1 else 'stories'}"


def _listing(entries: Sequence[tuple[str, int]]) -> str:
    return ", ".join(f"{name}: {count}" for name, count in entries)


def _group(buckets: Sequence[Bucket], key: Callable[[dt.date], str]) -> list[tuple[str, int]]:
    groups: dict[str, int] = {}
    for b in buckets:
        name = key(b.start)
        groups[name] = groups.get(name, 0) + b.count
    return list(groups.items())


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "…"


# ------------------------------------------------------------------------------ counting


def trend(dates: Iterable[dt.date | None], *, weeks: int, today: dt.date,
          topic: str | None = None) -> Trend:
    """Count `dates` per week (per month above 52 weeks) for the last `weeks` weeks.

    Raises ValueError (one sentence) if `weeks` is out of range.
    """
    weeks = check_weeks(weeks)
    if isinstance(today, dt.datetime):
        today = today.date()
    this_week = week_start(today)
    span_start = this_week - dt.timedelta(weeks=weeks - 1)
    unit: Unit = "week" if weeks <= MONTHLY_ABOVE else "month"

    starts: list[dt.date] = []
    if unit == "week":
        starts = [span_start + dt.timedelta(weeks=i) for i in range(weeks)]
        ends = [s + dt.timedelta(weeks=1) for s in starts]
    else:
        month = _month_start(span_start)
        while month <= today:
            starts.append(month)
            month = _next_month(month)
        ends = [*starts[1:], _next_month(starts[-1])]

    counts = [0] * len(starts)
    first = starts[0]
    for day in dates:
        if day is None:
            continue
        if isinstance(day, dt.datetime):
            day = day.date()
        if day < first or day > today:
            continue
        if unit == "week":
            i = (day - first).days // 7
        else:
            i = (day.year - first.year) * 12 + day.month - first.month
        counts[i] += 1

    buckets = [Bucket(s, e, c) for s, e, c in zip(starts, ends, counts, strict=True)]
    return Trend(topic=topic, unit=unit, buckets=buckets, today=today, weeks=weeks)
