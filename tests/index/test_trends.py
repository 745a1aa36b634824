"""Stories per week or month for /trends, and the chart drawn from them.

Expected counts are written out by hand from a calendar (or counted with
`date.isocalendar()`), never with the code under test. The chart is drawn with the
real matplotlib and read back: the PNG's size, and the heights of the plotted bars.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import struct
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from matplotlib import dates as mdates
from matplotlib import image as mimage
from matplotlib.patches import Rectangle

from index import chart
from index.trends import (
    ALT_TEXT_LIMIT,
    DEFAULT_WEEKS,
    MAX_WEEKS,
    MIN_WEEKS,
    Bucket,
    Trend,
    check_weeks,
    trend,
)

D = dt.date
TODAY = D(2026, 12, 10)  # a Thursday; its week starts on Monday 7 Dec 2026


def test_today_is_a_thursday() -> None:
    assert TODAY.weekday() == 3


# --------------------------------------------------------------------------- weekly counts


def test_weekly_counts_with_monday_and_sunday_boundaries() -> None:
    dates = [
        D(2026, 11, 15),  # Sunday before the window: ignored
        D(2026, 11, 16),  # Monday, first week
        D(2026, 11, 22),  # Sunday, still the first week
        # the week of 23 Nov has nothing: zero-filled
        D(2026, 12, 6), D(2026, 12, 6),  # Sunday, third week
        D(2026, 12, 7),  # Monday of the current week
        D(2026, 12, 10),  # today
        D(2026, 12, 11),  # tomorrow: ignored
        None, None,
    ]
    t = trend(dates, weeks=4, today=TODAY)
    assert t.unit == "week"
    assert t.buckets == [
        Bucket(D(2026, 11, 16), D(2026, 11, 23), 2),
        Bucket(D(2026, 11, 23), D(2026, 11, 30), 0),
        Bucket(D(2026, 11, 30), D(2026, 12, 7), 2),
        Bucket(D(2026, 12, 7), D(2026, 12, 14), 2),
    ]
    assert t.total == 6
    assert t.counts == [2, 0, 2, 2]


def test_the_current_week_is_included_when_today_is_its_monday() -> None:
    monday = D(2026, 12, 7)
    t = trend([monday, D(2026, 12, 6), D(2026, 12, 8)], weeks=2, today=monday)
    assert [b.start for b in t.buckets] == [D(2026, 11, 30), D(2026, 12, 7)]
    assert t.counts == [1, 1]  # Tuesday 8 Dec is after today


def test_today_a_sunday_closes_its_week() -> None:
    sunday = D(2026, 12, 13)
    t = trend([D(2026, 12, 7), sunday, D(2026, 12, 14)], weeks=1, today=sunday)
    assert t.buckets == [Bucket(D(2026, 12, 7), D(2026, 12, 14), 2)]


def test_no_dates_at_all_gives_zero_filled_weeks() -> None:
    t = trend([], weeks=DEFAULT_WEEKS, today=TODAY)
    assert len(t.buckets) == 12
    assert t.counts == [0] * 12
    assert t.empty and t.busiest is None
    assert t.buckets[0].start == D(2026, 9, 21)
    assert all(b.end - b.start == dt.timedelta(days=7) for b in t.buckets)
    assert all(a.end == b.start for a, b in zip(t.buckets, t.buckets[1:], strict=False))


def test_iso_week_53_across_the_new_year() -> None:
    today = D(2027, 1, 2)  # Saturday of ISO week 53 of 2026
    dates = [D(2026, 12, 27), D(2026, 12, 28), D(2026, 12, 31), D(2027, 1, 1), D(2027, 1, 2)]
    t = trend(dates, weeks=2, today=today)
    assert t.buckets == [Bucket(D(2026, 12, 21), D(2026, 12, 28), 1),
                         Bucket(D(2026, 12, 28), D(2027, 1, 4), 4)]
    assert t.buckets[-1].start.isocalendar()[:2] == (2026, 53)


def test_datetimes_count_on_their_calendar_date() -> None:
    late = dt.datetime(2026, 12, 6, 23, 59, tzinfo=dt.UTC)
    t = trend([late, dt.datetime(2026, 12, 7, 0, 0)], weeks=2, today=TODAY)
    assert t.counts == [1, 1]


def test_weekly_counts_agree_with_isocalendar() -> None:
    rng = random.Random(14)
    dates: list[dt.date | None] = [TODAY - dt.timedelta(days=rng.randrange(-20, 400))
                                   for _ in range(3000)]
    dates += [None] * 50
    t = trend(dates, weeks=52, today=TODAY)
    per_week = Counter(d.isocalendar()[:2] for d in dates if d is not None and d <= TODAY)
    expected = [per_week[b.start.isocalendar()[:2]] for b in t.buckets]
    assert t.counts == expected
    assert t.buckets[-1].start.isocalendar()[:2] == TODAY.isocalendar()[:2]
    assert len({b.start.isocalendar()[:2] for b in t.buckets}) == 52
    assert all(b.start.weekday() == 0 for b in t.buckets)


# --------------------------------------------------------------------------- monthly counts


def test_more_than_52_weeks_counts_calendar_months() -> None:
    # 60 weeks to the week of 7 Dec 2026 start on Monday 20 Oct 2025: October 2025 is
    # the first month, counted whole; December 2026 the last, counted up to today.
    dates = [
        D(2025, 9, 30),  # before October: ignored
        D(2025, 10, 1), D(2025, 10, 31),
        D(2025, 12, 31), D(2026, 1, 1),
        D(2026, 2, 28),
        D(2026, 12, 1), D(2026, 12, 10),
        D(2026, 12, 11),  # after today: ignored
        None,
    ]
    t = trend(dates, weeks=60, today=TODAY)
    assert t.unit == "month"
    assert len(t.buckets) == 15
    assert t.buckets[0] == Bucket(D(2025, 10, 1), D(2025, 11, 1), 2)
    assert t.buckets[-1] == Bucket(D(2026, 12, 1), D(2027, 1, 1), 2)
    by_month = {(b.start.year, b.start.month): b.count for b in t.buckets}
    assert by_month[(2025, 12)] == 1 and by_month[(2026, 1)] == 1
    assert by_month[(2026, 2)] == 1 and by_month[(2025, 11)] == 0
    assert t.total == 7
    assert all(b.start.day == 1 for b in t.buckets)
    assert all(a.end == b.start for a, b in zip(t.buckets, t.buckets[1:], strict=False))


def test_52_weeks_is_still_weekly_and_53_monthly() -> None:
    assert trend([], weeks=52, today=TODAY).unit == "week"
    assert trend([], weeks=53, today=TODAY).unit == "month"


def test_ten_years_of_months() -> None:
    t = trend([D(2017, 1, 1), TODAY], weeks=MAX_WEEKS, today=TODAY)
    assert t.unit == "month"
    assert t.buckets[-1].start == D(2026, 12, 1)
    assert t.total == 2


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize("value", [0, -1, 521, 10**9])
def test_weeks_out_of_range(value: int) -> None:
    with pytest.raises(ValueError) as err:
        check_weeks(value)
    assert str(err.value).startswith(f"weeks must be between {MIN_WEEKS} and {MAX_WEEKS}; got ")
    assert str(err.value).endswith(".")


def test_weeks_zero_message() -> None:
    with pytest.raises(ValueError, match=r"^weeks must be between 1 and 520; got 0\.$"):
        check_weeks(0)


@pytest.mark.parametrize("value", ["abc", True, False, 2.5, None, "", "--3", [12]])
def test_weeks_not_a_whole_number(value: object) -> None:
    with pytest.raises(ValueError) as err:
        check_weeks(value)
    message = str(err.value)
    assert message.startswith("weeks must be a whole number between 1 and 520; got ")
    assert message.endswith(".") and "\n" not in message


def test_weeks_accepted() -> None:
    assert check_weeks(1) == 1 and check_weeks(520) == 520
    assert check_weeks(" 12 ") == 12
    with pytest.raises(ValueError, match="got -3"):
        check_weeks("-3")


def test_trend_validates_weeks() -> None:
    with pytest.raises(ValueError, match="between 1 and 520"):
        trend([TODAY], weeks=0, today=TODAY)


# --------------------------------------------------------------------------- text forms


def _sample() -> Trend:
    dates = ([D(2026, 11, 16)] * 9 + [D(2026, 11, 24)] * 2 + [D(2026, 12, 8)] * 3
             + [D(2026, 9, 22)])
    return trend(dates, weeks=12, today=TODAY, topic="fair use")


def test_summary_gives_the_numbers() -> None:
    text = _sample().summary()
    assert text == ('15 stories about "fair use" in the 12 weeks to 10 Dec 2026; '
                    "busiest week 16 Nov 2026 (9); this week so far 3.")


def test_summary_when_empty_and_singular() -> None:
    assert trend([], weeks=4, today=TODAY).summary() == "No stories in the 4 weeks to 10 Dec 2026."
    assert trend([TODAY], weeks=1, today=TODAY).summary() == "1 story in the week to 10 Dec 2026."
    monthly = trend([D(2026, 3, 3)] * 4 + [TODAY], weeks=60, today=TODAY)
    assert "busiest month Mar 2026 (4)" in monthly.summary()
    assert "this month so far 1" in monthly.summary()


def test_alt_text_lists_every_week_when_short() -> None:
    t = _sample()
    text = t.alt_text()
    assert len(text) <= ALT_TEXT_LIMIT
    assert "15 stories in total" in text and '"fair use"' in text
    assert "Weeks starting 21 Sep 2026: 1, 28 Sep: 0, 5 Oct: 0," in text
    for part in ("16 Nov: 9", "23 Nov: 2", "30 Nov: 0", "7 Dec: 3."):
        assert part in text
    assert "14 Sep" not in text


def test_alt_text_summarises_long_trends() -> None:
    rng = random.Random(7)
    first = D(2024, 12, 16)
    weekly = Trend(topic=None, unit="week", weeks=104, today=TODAY, buckets=[
        Bucket(first + dt.timedelta(weeks=i), first + dt.timedelta(weeks=i + 1),
               rng.randrange(100, 1000)) for i in range(104)])
    text = weekly.alt_text()
    assert len(text) <= ALT_TEXT_LIMIT
    assert f"{weekly.total} stories in total" in text
    assert "Per month" in text
    busiest = weekly.busiest
    assert busiest is not None and str(busiest.count) in text

    rng_dates = [TODAY - dt.timedelta(days=rng.randrange(3650)) for _ in range(20000)]
    monthly = trend(rng_dates, weeks=MAX_WEEKS, today=TODAY, topic="x" * 300)
    text = monthly.alt_text()
    assert len(text) <= ALT_TEXT_LIMIT
    assert "Per year" in text or len(text) == ALT_TEXT_LIMIT


def test_alt_text_when_empty() -> None:
    text = trend([], weeks=3, today=TODAY).alt_text()
    assert "0 stories in total" in text and "zero" in text


def test_sparkline() -> None:
    t = _sample()
    line = t.sparkline()
    assert len(line) == len(t.buckets) == 12
    assert set(line) <= set("▁▂▃▄▅▆▇█")
    assert line[t.counts.index(9)] == "█"
    assert line[1] == "▁"  # a week with no story
    assert line[0] != "▁"  # one story is still visible
    assert trend([], weeks=5, today=TODAY).sparkline() == "▁" * 5
    assert trend([TODAY], weeks=1, today=TODAY).sparkline() == "█"


# --------------------------------------------------------------------------- the chart


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_render_png_is_a_1000_by_500_png() -> None:
    data = chart.render_png(_sample())
    assert isinstance(data, bytes)
    assert _png_size(data) == (1000, 500)
    pixels = mimage.imread(io.BytesIO(data), format="png")
    assert pixels.shape[:2] == (500, 1000)


def _bars(t: Trend) -> tuple[list[float], list[float]]:
    fig = chart.figure(t)
    (ax,) = fig.axes
    bars = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert len(bars) == len(ax.patches) == len(t.buckets)
    return [b.get_height() for b in bars], [b.get_x() for b in bars]


@pytest.mark.parametrize("weeks", [1, 12, 52, 104, MAX_WEEKS])
def test_plotted_bars_are_the_counts(weeks: int) -> None:
    rng = random.Random(weeks)
    dates = [TODAY - dt.timedelta(days=rng.randrange(weeks * 7 + 40)) for _ in range(700)]
    t = trend(dates, weeks=weeks, today=TODAY)
    heights, xs = _bars(t)
    assert heights == t.counts
    assert xs == [float(mdates.date2num(b.start)) for b in t.buckets]


def test_two_years_of_weekly_buckets_render() -> None:
    first = D(2024, 12, 16)
    t = Trend(topic="fair use", unit="week", weeks=104, today=TODAY, buckets=[
        Bucket(first + dt.timedelta(weeks=i), first + dt.timedelta(weeks=i + 1), i % 17)
        for i in range(104)])
    heights, _ = _bars(t)
    assert heights == t.counts
    assert _png_size(chart.render_png(t)) == (1000, 500)


def test_chart_labels_title_and_dates() -> None:
    fig = chart.figure(_sample())
    (ax,) = fig.axes
    assert ax.get_ylabel() == "Stories per week"
    assert ax.get_xlabel() == "Week starting"
    assert ax.get_title(loc="left") == 'Stories about "fair use"'
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert 2 <= len(labels) <= chart.MAX_TICKS
    assert labels[-1] == "7 Dec"
    assert any("2026" in label for label in labels)
    ticks = ax.get_yticks()
    assert all(float(v).is_integer() for v in ticks)

    monthly = chart.figure(trend([TODAY], weeks=104, today=TODAY))
    (ax,) = monthly.axes
    assert ax.get_ylabel() == "Stories per month" and ax.get_xlabel() == "Month"
    assert ax.get_title(loc="left") == "All stories"
    assert 2 <= len(ax.get_xticklabels()) <= chart.MAX_TICKS


def test_empty_trend_still_renders() -> None:
    t = trend([], weeks=8, today=TODAY)
    heights, _ = _bars(t)
    assert heights == [0] * 8
    assert _png_size(chart.render_png(t)) == (1000, 500)


def test_topic_text_is_drawn_literally() -> None:
    t = trend([TODAY], weeks=4, today=TODAY, topic="$1.5bn $settlement")
    assert _png_size(chart.render_png(t)) == (1000, 500)


def test_rendering_in_threads_matches_rendering_in_turn() -> None:
    t = _sample()
    expected = chart.render_png(t)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(chart.render_png, [t] * 8))
    assert all(r == expected for r in results)
