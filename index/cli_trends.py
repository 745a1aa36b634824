"""`python -m index trends [--topic T] [--weeks N] [--png FILE]`: stories per week.

Prints the one-line summary and a sparkline; with --png, also writes the chart /trends
posts (the same PNG); with --json, the counts per week (or month) instead.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import chart, trends


def _weeks(value: str) -> int:
    try:
        return trends.check_weeks(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def add_command(command: Callable[[str, str], argparse.ArgumentParser]) -> None:
    p = command("trends", "stories per week (per month beyond a year), as numbers or a chart")
    p.add_argument("--topic", default=None, help="only stories on this topic (as `latest` matches it)")
    p.add_argument("--weeks", type=_weeks, default=trends.DEFAULT_WEEKS, metavar="N",
                   help=f"how many weeks back ({trends.MIN_WEEKS}-{trends.MAX_WEEKS}, "
                        f"default {trends.DEFAULT_WEEKS})")
    p.add_argument("--png", type=Path, metavar="FILE", help="write the chart here")
    p.add_argument("--json", action="store_true", help="print the counts as JSON")


def trend_json(trend: trends.Trend) -> dict[str, Any]:
    return {"topic": trend.topic, "unit": trend.unit, "total": trend.total,
            "summary": trend.summary(),
            "buckets": [{"start": b.start.isoformat(), "end": b.end.isoformat(), "count": b.count}
                        for b in trend.buckets]}


async def empty_text(index: Any, trend: trends.Trend) -> str:
    """One sentence for a span with no stories: the newest story's date and a span that
    would reach it, or that the index has none."""
    about = f" on “{trend.topic}”" if trend.topic else ""
    span = f"{trend.weeks} week{'s' if trend.weeks != 1 else ''}"
    newest = await index.latest(trend.topic, count=1)
    day = _date(newest[0].published) if newest else None
    if day is None:
        return f"No stories{about} in the index: nothing to chart."
    reach = min(trends.MAX_WEEKS, (trend.today - day).days // 7 + 4)
    hint = f" (try {reach} weeks)" if reach > trend.weeks else ""
    return (f"No stories{about} in the last {span}; the newest is from "
            f"{trends.format_day(day)}{hint}.")


def _date(published: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(published[:10]) if published else None
    except ValueError:
        return None


async def write_png(trend: trends.Trend, path: Path) -> Path:
    """The chart, drawn off the event loop, written whole (a temporary file, then renamed)."""
    data = await asyncio.to_thread(chart.render_png, trend)
    tmp = path.with_name(path.name + ".tmp")
    await asyncio.to_thread(tmp.write_bytes, data)
    await asyncio.to_thread(tmp.replace, path)
    return path


async def run(args: argparse.Namespace, index: Any) -> int:
    trend = await index.trend(args.topic, weeks=args.weeks)
    if args.json:
        print(json.dumps(trend_json(trend), ensure_ascii=False))
        if trend.empty:
            return 0
    elif trend.empty:
        print(await empty_text(index, trend))
        return 0
    else:
        print(trend.summary())
        print(trend.sparkline())
    if args.png:
        try:
            await write_png(trend, args.png)
        except OSError as exc:
            print(f"cannot write {args.png}: {exc.strerror or exc}")
            return 1
        if not args.json:
            print(f"chart written to {args.png}")
    return 0
