"""How long the /trends chart takes to draw: two years of weekly counts (104 bars, more
than the product ever draws weekly) and the 104-week request as the product draws it
(per month), each rendered to PNG `repeats` times in this process after one warm-up."""

from __future__ import annotations

import datetime as dt
import random
import statistics
import time
from typing import Any

from ..chart import render_png
from ..trends import Bucket, Trend, trend

TODAY = dt.date(2026, 12, 10)


def _weekly(weeks: int, rng: random.Random) -> Trend:
    start = TODAY - dt.timedelta(weeks=weeks - 1, days=TODAY.weekday())
    buckets = [Bucket(start + dt.timedelta(weeks=i), start + dt.timedelta(weeks=i + 1),
                      rng.randint(0, 40)) for i in range(weeks)]
    return Trend(topic="bench", unit="week", buckets=buckets, today=TODAY, weeks=weeks)


def chart_figures(repeats: int = 5, seed: int = 7) -> dict[str, Any]:
    """Render medians and maxima in milliseconds, and the first render in a process."""
    rng = random.Random(seed)
    days = [TODAY - dt.timedelta(days=rng.randint(0, 727)) for _ in range(3000)]
    cases = {"weekly_104": _weekly(104, rng), "monthly_104w": trend(days, weeks=104, today=TODAY)}
    out: dict[str, Any] = {}
    started = time.perf_counter()
    render_png(cases["weekly_104"])
    out["first_render_ms"] = (time.perf_counter() - started) * 1000
    for name, t in cases.items():
        times = []
        for _ in range(max(1, repeats)):
            started = time.perf_counter()
            png = render_png(t)
            times.append((time.perf_counter() - started) * 1000)
        out[name] = {"bars": len(t.buckets), "png_bytes": len(png),
                     "render_ms_median": statistics.median(times), "render_ms_max": max(times)}
    return out
