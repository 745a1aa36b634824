"""When the weekly digest is due, which days it covers, and how its stories are grouped.

Pure: no Discord, no I/O, no clock. The caller passes the time and the stored state.

The schedule
------------
A channel's digest is scheduled at `weekday` (0 = Monday … 6 = Sunday) at `hour`:00
UTC. For a moment `now`, the *scheduled moment* S is the latest datetime at or before
`now` that falls on `weekday` at `hour`:00 UTC. The digest posted at S covers the
seven days before it, [S - 7 days, S). Its key is the calendar date of S - 7 days,
which is itself a `weekday` (a Monday with the default schedule); `week_days(key)`
gives the days its stories are taken from: `key` to `key + 7 days`, end excluded, so
the stories dated on the posting day itself go into the next digest and no day is
counted twice.

- `due_week(now, weekday, hour, last_posted_week) -> date | None`: the key of the
  digest to post now, or None when it was already posted. The digest is due when no
  digest was posted yet or the stored key is older than the current one; a stored key
  equal to or later than the current one (already posted; or the clock or schedule
  moved back) means nothing is due, so a week is never posted twice.
  Idempotent across restarts: the caller stores the returned key once the post has
  gone out (or once it decided to skip an empty week) and passes it back next time.
  After downtime, only the latest week is due; missed older weeks are not caught up.
  Between two scheduled moments the current key stays the same, so the "moment not
  yet reached" case is simply "the previous week's key, already stored".
- `current_week(now, weekday, hour) -> date`: the current key, whatever was posted.
  Store it when a channel subscribes, so that its first digest waits for the next
  scheduled moment instead of posting the week that has just ended at once.
- `next_moment(now, weekday, hour) -> datetime`: the first scheduled moment strictly
  after `now` (what to sleep until).
- `validate_schedule(weekday, hour) -> (weekday, hour)`: ValueError with one sentence
  for the user when either is out of range.
- `group_by_case(stories, case_of, *, date_of) -> [(name, stories), ...]`: the week's
  stories grouped by case, the remainder last under `OTHER_NEWS`.

`now` must be timezone-aware (any zone; it is converted to UTC). All schedule times
are UTC, so daylight saving time plays no part.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import TypeGuard, TypeVar

T = TypeVar("T")

DEFAULT_WEEKDAY = 0  # Monday
DEFAULT_HOUR = 9  # 09:00 UTC
OTHER_NEWS = "Other news"
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

_WEEK = dt.timedelta(days=7)


def validate_schedule(weekday: object, hour: object) -> tuple[int, int]:
    """(weekday, hour) as ints, or ValueError with one sentence saying what is allowed."""
    if not _whole(weekday) or not 0 <= weekday <= 6:
        raise ValueError(f"The digest weekday must be a whole number from 0 (Monday) to "
                         f"6 (Sunday); got {_shown(weekday)}.")
    if not _whole(hour) or not 0 <= hour <= 23:
        raise ValueError(f"The digest hour must be a whole number from 0 to 23 (UTC); "
                         f"got {_shown(hour)}.")
    return weekday, hour


def _whole(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _shown(value: object) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 40 else text[:39] + "…"


def _utc(now: dt.datetime) -> dt.datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime.")
    return now.astimezone(dt.UTC)


def scheduled_moment(now: dt.datetime, weekday: int, hour: int) -> dt.datetime:
    """The latest `weekday` at `hour`:00 UTC at or before `now` (aware, in UTC)."""
    weekday, hour = validate_schedule(weekday, hour)
    now = _utc(now)
    moment = now.replace(hour=hour, minute=0, second=0, microsecond=0)
    moment -= dt.timedelta(days=(now.weekday() - weekday) % 7)
    if moment > now:
        moment -= _WEEK
    return moment


def next_moment(now: dt.datetime, weekday: int, hour: int) -> dt.datetime:
    """The first scheduled moment strictly after `now` (aware, in UTC)."""
    return scheduled_moment(now, weekday, hour) + _WEEK


def current_week(now: dt.datetime, weekday: int, hour: int) -> dt.date:
    """The key of the digest for the latest scheduled moment at or before `now`."""
    return (scheduled_moment(now, weekday, hour) - _WEEK).date()


def due_week(now: dt.datetime, weekday: int, hour: int,
             last_posted_week: dt.date | None) -> dt.date | None:
    """The key of the digest due at `now`, or None if it was already posted."""
    key = current_week(now, weekday, hour)
    if last_posted_week is not None and last_posted_week >= key:
        return None
    return key


def week_days(key: dt.date) -> tuple[dt.date, dt.date]:
    """The story dates a digest covers: from `key` (included) to `key + 7 days` (excluded)."""
    return key, key + _WEEK


def group_by_case(stories: Iterable[T], case_of: Callable[[T], str | None], *,
                  date_of: Callable[[T], dt.date | None]) -> list[tuple[str, list[T]]]:
    """The stories grouped by case name, the remainder last under OTHER_NEWS.

    Cases come in order of most stories, then most recent story, then name. Within a
    group stories are newest first, undated ones last, otherwise in the order given.
    A blank case name counts as none. Datetimes and dates may be mixed: they are
    compared by calendar date, then by time of day (a plain date counts as midnight).
    """
    groups: dict[str, list[T]] = {}
    other: list[T] = []
    for story in stories:
        name = (case_of(story) or "").strip()
        if name:
            groups.setdefault(name, []).append(story)
        else:
            other.append(story)

    def newest_first(items: list[T]) -> list[T]:
        return sorted(items, key=lambda s: _when(date_of(s)), reverse=True)

    ordered = [(name, newest_first(items)) for name, items in groups.items()]
    ordered.sort(key=lambda g: g[0].casefold())
    ordered.sort(key=lambda g: (len(g[1]), _when(date_of(g[1][0]))), reverse=True)
    if other:
        ordered.append((OTHER_NEWS, newest_first(other)))
    return ordered


def _when(day: dt.date | None) -> tuple[int, int, float]:
    """A sort key, larger is newer; None sorts before (older than) every date."""
    if day is None:
        return (0, 0, 0.0)
    if isinstance(day, dt.datetime):
        seconds = day.hour * 3600 + day.minute * 60 + day.second + day.microsecond / 1e6
        return (1, day.toordinal(), seconds)
    return (1, day.toordinal(), 0.0)
