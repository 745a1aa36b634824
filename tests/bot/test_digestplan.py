"""The weekly digest's schedule, its exactly-once key, and how its stories are grouped.

Every time is written out; nothing reads the clock.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from bot.digestplan import (
    OTHER_NEWS,
    current_week,
    due_week,
    group_by_case,
    next_moment,
    scheduled_moment,
    validate_schedule,
    week_days,
)

UTC = dt.UTC
D = dt.date


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0,
       tz: dt.tzinfo = UTC) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=tz)


# Monday 7 Dec 2026 at 09:00 UTC is a scheduled moment for (weekday=0, hour=9); its
# digest covers Monday 30 Nov to Sunday 6 Dec and is keyed 30 Nov.
MON, NINE = 0, 9


def test_calendar_of_these_tests() -> None:
    assert D(2026, 12, 7).weekday() == 0
    assert D(2026, 12, 28).isocalendar()[:2] == (2026, 53)


# --------------------------------------------------------------------------- due_week


def test_an_hour_before_the_moment_last_week_is_still_the_current_one() -> None:
    now = at(2026, 12, 7, 8)
    assert scheduled_moment(now, MON, NINE) == at(2026, 11, 30, 9)
    assert due_week(now, MON, NINE, last_posted_week=D(2026, 11, 23)) is None
    # Never posted: the week that ended at the previous moment is due.
    assert due_week(now, MON, NINE, last_posted_week=None) == D(2026, 11, 23)


def test_at_the_moment_the_week_just_ended_is_due() -> None:
    now = at(2026, 12, 7, 9)
    assert due_week(now, MON, NINE, last_posted_week=D(2026, 11, 23)) == D(2026, 11, 30)
    assert week_days(D(2026, 11, 30)) == (D(2026, 11, 30), D(2026, 12, 7))


def test_a_minute_before_the_moment_is_not_yet() -> None:
    now = at(2026, 12, 7, 8, 59)
    assert due_week(now, MON, NINE, last_posted_week=D(2026, 11, 23)) is None


def test_after_the_moment_it_stays_due_until_posted() -> None:
    for now in (at(2026, 12, 7, 10), at(2026, 12, 9, 18), at(2026, 12, 14, 8, 59)):
        assert due_week(now, MON, NINE, last_posted_week=D(2026, 11, 23)) == D(2026, 11, 30)
        assert due_week(now, MON, NINE, last_posted_week=D(2026, 11, 30)) is None


def test_a_stored_key_from_the_future_never_reposts_an_older_week() -> None:
    assert due_week(at(2026, 12, 7, 10), MON, NINE, last_posted_week=D(2026, 12, 7)) is None


def test_after_downtime_only_the_latest_week_is_due() -> None:
    now = at(2026, 12, 28, 12)  # three moments missed since the post keyed 23 Nov
    assert due_week(now, MON, NINE, last_posted_week=D(2026, 11, 23)) == D(2026, 12, 21)


def test_posted_exactly_once_per_week_across_restarts() -> None:
    """Check every 10 minutes for five weeks, 'restarting' with only the stored key."""
    stored: D | None = current_week(at(2026, 12, 2, 15), MON, NINE)  # subscribed Wednesday
    posts: list[tuple[dt.datetime, D]] = []
    now = at(2026, 12, 2, 15)
    while now < at(2027, 1, 6):
        key = due_week(now, MON, NINE, stored)
        if key is not None:
            posts.append((now, key))
            stored = key  # what survives a restart
        now += dt.timedelta(minutes=10)
    assert posts == [
        (at(2026, 12, 7, 9), D(2026, 11, 30)),
        (at(2026, 12, 14, 9), D(2026, 12, 7)),
        (at(2026, 12, 21, 9), D(2026, 12, 14)),
        (at(2026, 12, 28, 9), D(2026, 12, 21)),
        (at(2027, 1, 4, 9), D(2026, 12, 28)),
    ]


def test_subscribing_waits_for_the_next_moment() -> None:
    subscribed = at(2026, 12, 9, 12)
    stored = current_week(subscribed, MON, NINE)
    assert due_week(subscribed, MON, NINE, stored) is None
    assert due_week(at(2026, 12, 14, 8), MON, NINE, stored) is None
    assert due_week(at(2026, 12, 14, 9), MON, NINE, stored) == D(2026, 12, 7)


def test_week_53_and_the_year_boundary() -> None:
    key = due_week(at(2027, 1, 4, 9), MON, NINE, last_posted_week=D(2026, 12, 21))
    assert key == D(2026, 12, 28)
    assert key.isocalendar()[:2] == (2026, 53)
    assert week_days(key) == (D(2026, 12, 28), D(2027, 1, 4))


def test_other_weekdays_and_hours() -> None:
    friday, five_pm = 4, 17
    assert due_week(at(2026, 12, 11, 17), friday, five_pm, None) == D(2026, 12, 4)
    assert due_week(at(2026, 12, 11, 16), friday, five_pm, None) == D(2026, 11, 27)
    sunday, eleven_pm = 6, 23
    # Monday 00:30: the moment was Sunday 23:00, an hour and a half ago.
    assert scheduled_moment(at(2026, 12, 14, 0, 30), sunday, eleven_pm) == at(2026, 12, 13, 23)
    assert due_week(at(2026, 12, 14, 0, 30), sunday, eleven_pm, None) == D(2026, 12, 6)
    assert due_week(at(2026, 12, 7, 0), MON, 0, None) == D(2026, 11, 30)


def test_other_time_zones_are_read_as_utc() -> None:
    plus_two = dt.timezone(dt.timedelta(hours=2))
    minus_five = dt.timezone(dt.timedelta(hours=-5))
    # 10:00 at +02:00 is 08:00 UTC: not yet.
    assert due_week(at(2026, 12, 7, 10, tz=plus_two), MON, NINE, D(2026, 11, 23)) is None
    assert due_week(at(2026, 12, 7, 11, tz=plus_two), MON, NINE, D(2026, 11, 23)) == D(2026, 11, 30)
    # 04:00 on Monday at -05:00 is 09:00 UTC.
    assert due_week(at(2026, 12, 7, 4, tz=minus_five), MON, NINE, D(2026, 11, 23)) == D(2026, 11, 30)
    # The moment is always on the hour in UTC, whatever a local clock did that weekend.
    assert scheduled_moment(at(2026, 3, 30, 12), MON, NINE) == at(2026, 3, 30, 9)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        due_week(dt.datetime(2026, 12, 7, 9), MON, NINE, None)


def test_next_moment() -> None:
    assert next_moment(at(2026, 12, 7, 8, 59), MON, NINE) == at(2026, 12, 7, 9)
    assert next_moment(at(2026, 12, 7, 9), MON, NINE) == at(2026, 12, 14, 9)
    assert next_moment(at(2026, 12, 10, 3), MON, NINE) == at(2026, 12, 14, 9)


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize("weekday", [-1, 7, "1", True, 1.0, None])
def test_bad_weekday(weekday: object) -> None:
    with pytest.raises(ValueError) as err:
        validate_schedule(weekday, 9)
    message = str(err.value)
    assert message.startswith("The digest weekday must be a whole number from 0 (Monday) to "
                              "6 (Sunday); got ")
    assert message.endswith(".") and "\n" not in message


@pytest.mark.parametrize("hour", [-1, 24, "9", False, 9.5, None])
def test_bad_hour(hour: object) -> None:
    with pytest.raises(ValueError) as err:
        validate_schedule(0, hour)
    message = str(err.value)
    assert message.startswith("The digest hour must be a whole number from 0 to 23 (UTC); got ")
    assert message.endswith(".")


def test_good_schedules() -> None:
    assert validate_schedule(0, 0) == (0, 0)
    assert validate_schedule(6, 23) == (6, 23)
    with pytest.raises(ValueError, match="got 24"):
        due_week(at(2026, 12, 7, 9), MON, 24, None)


# --------------------------------------------------------------------------- grouping


@dataclass(frozen=True)
class Story:
    title: str
    case: str | None
    day: dt.date | None


def _group(stories: list[Story]) -> list[tuple[str, list[str]]]:
    groups = group_by_case(stories, lambda s: s.case, date_of=lambda s: s.day)
    return [(name, [s.title for s in items]) for name, items in groups]


def test_grouping_order() -> None:
    stories = [
        Story("other-old", None, D(2026, 12, 1)),
        Story("bartz-1", "Bartz v. Anthropic", D(2026, 12, 1)),
        Story("nyt-1", "NYT v. OpenAI", D(2026, 12, 2)),
        Story("bartz-2", "Bartz v. Anthropic", D(2026, 12, 4)),
        Story("getty-1", "Getty v. Stability", D(2026, 12, 5)),
        Story("other-blank", "  ", D(2026, 12, 6)),
        Story("nyt-2", "NYT v. OpenAI", D(2026, 12, 3)),
        Story("bartz-3", "Bartz v. Anthropic", D(2026, 12, 2)),
        Story("gema-1", "GEMA v. OpenAI", D(2026, 12, 5)),
        Story("thomson-1", "Thomson Reuters v. Ross", D(2026, 12, 1)),
        Story("thomson-2", "Thomson Reuters v. Ross", None),
    ]
    assert _group(stories) == [
        ("Bartz v. Anthropic", ["bartz-2", "bartz-3", "bartz-1"]),  # three stories
        ("NYT v. OpenAI", ["nyt-2", "nyt-1"]),  # two, latest 3 Dec
        ("Thomson Reuters v. Ross", ["thomson-1", "thomson-2"]),  # two, latest 1 Dec
        ("GEMA v. OpenAI", ["gema-1"]),  # one, 5 Dec; tie broken by name
        ("Getty v. Stability", ["getty-1"]),
        (OTHER_NEWS, ["other-blank", "other-old"]),
    ]


def test_grouping_mixed_dates_and_datetimes() -> None:
    stories = [
        Story("a", "Case", D(2026, 12, 3)),
        Story("b", "Case", dt.datetime(2026, 12, 3, 15, tzinfo=UTC)),
        Story("c", "Case", dt.datetime(2026, 12, 2, 23)),
    ]
    assert _group(stories) == [("Case", ["b", "a", "c"])]


def test_grouping_edge_cases() -> None:
    assert _group([]) == []
    assert _group([Story("x", None, None)]) == [(OTHER_NEWS, ["x"])]
    assert _group([Story("x", "Solo", None)]) == [("Solo", ["x"])]


def test_grouping_works_on_any_story_type() -> None:
    rows = [("one", "A", D(2026, 1, 2)), ("two", None, D(2026, 1, 1))]
    groups = group_by_case(rows, lambda r: r[1], date_of=lambda r: r[2])
    assert groups == [("A", [rows[0]]), (OTHER_NEWS, [rows[1]])]
