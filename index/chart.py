"""The /trends chart: a `Trend` drawn as a PNG bar chart with matplotlib.

API
---
- `figure(trend) -> matplotlib.figure.Figure`: the chart as a Figure (one Axes whose
  bar patches, `ax.patches`, are the buckets in order, heights equal to the counts).
- `render_png(trend) -> bytes`: that Figure rendered to a `WIDTH` x `HEIGHT` PNG.

Drawing uses `matplotlib.figure.Figure` with `FigureCanvasAgg` directly: no pyplot, no
backend switching, no change to matplotlib's global settings, so `render_png` may run
in a worker thread (`await asyncio.to_thread(render_png, t)`) while the event loop goes
on. matplotlib is imported on first use, so importing this module costs nothing.

The picture is one solid dark background (Discord's dark embed colour) with light
text, which reads the same in Discord's dark and light themes. Axes are labelled
("Stories per week" / "Week starting", or per month), the x axis carries dates, the
y axis whole numbers, the title names the topic and the span. The bucket containing
today, still filling up, is drawn lighter. User text (the topic) is drawn literally:
a "$" never starts mathtext.

An all-zero trend still renders (with "No stories in this period" across it), but a
reply should say there were no stories instead of showing it: check `Trend.empty`.
Two years of weekly buckets render in well under 300 ms on a warm process.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import TYPE_CHECKING

from index.trends import Trend, format_day, format_month

if TYPE_CHECKING:
    from matplotlib.figure import Figure

WIDTH, HEIGHT = 1000, 500
DPI = 100

BACKGROUND = "#2b2d31"
TEXT = "#f2f3f5"
MUTED = "#b5bac1"
GRID = "#404249"
BAR = "#8c95f7"  # 5.1:1 against the background
BAR_PARTIAL = "#c5cafb"
TITLE_MAX = 70
MAX_TICKS = 9
WEEK_STEPS = (1, 2, 4, 8, 13, 26, 52, 104)
MONTH_STEPS = (1, 2, 3, 6, 12, 24)
LABEL_BARS_UP_TO = 26  # counts are written above the bars when there are this few


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _tick_indices(trend: Trend) -> list[int]:
    """Which buckets get a date under them: at most MAX_TICKS, at a regular step.

    Weeks are counted back from the current one (always labelled); months with a step
    of 3 or more fall on quarters, half-years or years.
    """
    n = len(trend.buckets)
    steps = WEEK_STEPS if trend.unit == "week" else MONTH_STEPS
    step = next((s for s in steps if -(-n // s) <= MAX_TICKS), steps[-1])
    if trend.unit == "week" or step < 3:
        return list(range(n - 1, -1, -step))[::-1]
    return [i for i, b in enumerate(trend.buckets)
            if (b.start.month - 1) % min(step, 12) == 0
            and (step <= 12 or b.start.year % (step // 12) == 0)]


def _tick_labels(trend: Trend, ticks: list[int]) -> list[str]:
    """"21 Sep 2026", "28 Sep", ... (the year where it changes), or "Jan 2026"."""
    labels = []
    year: int | None = None
    for i in ticks:
        start = trend.buckets[i].start
        if trend.unit == "week":
            labels.append(format_day(start, year=start.year != year))
        else:
            labels.append(format_month(start) if start.year != year or i == ticks[0]
                          else format_month(start).split()[0])
        year = start.year
    return labels


def figure(trend: Trend) -> Figure:
    """The chart as a matplotlib Figure (not yet rendered)."""
    from matplotlib import dates as mdates
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(WIDTH / DPI, HEIGHT / DPI), dpi=DPI, facecolor=BACKGROUND)
    fig.subplots_adjust(left=0.075, right=0.975, top=0.87, bottom=0.13)
    ax = fig.add_subplot()
    ax.set_facecolor(BACKGROUND)

    buckets = trend.buckets
    starts = [float(mdates.date2num(b.start)) for b in buckets]
    days = [(b.end - b.start).days for b in buckets]
    partial = trend.today < buckets[-1].end - dt.timedelta(days=1)
    colours = [BAR] * len(buckets)
    if partial:
        colours[-1] = BAR_PARTIAL
    bars = ax.bar(starts, trend.counts, width=[d * 0.8 for d in days], align="edge",
                  color=colours, linewidth=0, zorder=2)
    if len(buckets) <= LABEL_BARS_UP_TO and not trend.empty:
        ax.bar_label(bars, labels=[str(c) if c else "" for c in trend.counts],
                     padding=3, color=TEXT, fontsize=10)

    pad = days[0] * 0.3
    ax.set_xlim(starts[0] - pad, starts[-1] + days[-1] + pad)
    top = max(trend.counts, default=0)
    ax.set_ylim(0, max(top, 1) * 1.12)

    ticks = _tick_indices(trend)
    ax.set_xticks([starts[i] + days[i] * 0.4 for i in ticks], _tick_labels(trend, ticks))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=6, min_n_ticks=2))

    per = trend.unit
    ax.set_ylabel(f"Stories per {per}", color=TEXT, fontsize=12, labelpad=8)
    ax.set_xlabel("Week starting" if per == "week" else "Month", color=TEXT, fontsize=12)
    about = f'Stories about "{trend.topic}"' if trend.topic else "All stories"
    ax.set_title(_clip(about, TITLE_MAX), loc="left", color=TEXT, fontsize=15,
                 fontweight="bold", pad=12, parse_math=False)
    span = f"{trend.label(buckets[0])} – {format_day(trend.today)} · {trend.total} in total"
    ax.set_title(span, loc="right", color=MUTED, fontsize=11, pad=12, parse_math=False)

    ax.tick_params(colors=MUTED, labelsize=10, length=4)
    ax.grid(axis="y", color=GRID, linewidth=0.8, zorder=0)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color(GRID)

    if trend.empty:
        ax.text(0.5, 0.5, "No stories in this period", transform=ax.transAxes,
                ha="center", va="center", color=MUTED, fontsize=14)
    elif partial:
        ax.text(1.0, -0.11, f"Lighter bar: this {per} so far", transform=ax.transAxes,
                ha="right", va="top", color=MUTED, fontsize=9)
    return fig


def render_png(trend: Trend) -> bytes:
    """The chart as PNG bytes, `WIDTH` x `HEIGHT` pixels. Safe to call from a thread."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = figure(trend)
    canvas = FigureCanvasAgg(fig)
    out = io.BytesIO()
    canvas.print_png(out, metadata={"Software": None})
    return out.getvalue()
