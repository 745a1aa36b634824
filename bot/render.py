"""Search results and reports as Discord embeds, within every Discord limit.

All article text goes through `safetext` (escaped, links and mentions neutralized);
the text forms for the terminal live in `bot.textforms`. Every builder ends with
`check_embed`, which trims rather than ever sending something Discord would refuse.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlsplit

import discord

from index import LEDE_CHARS, FeedRow, Result, SearchResponse, human_date, human_dates, quoted

from . import safetext as st
from .service import SourcesReport, StatusReport

COLOR = discord.Colour(0x3B6EA8)
NOTHING_FOUND = "I found nothing in the news index about that."
TRY_LATEST = "Try `/latest` for the newest developments, or ask with other words."
ALSO_MAX = 5  # "also reported by" outlets named before "and N more"


# -- small formatting helpers shared with the text forms ----------------------------------

def ago(seconds: float | None) -> str:
    if seconds is None:
        return "at an unknown time"
    seconds = max(0.0, seconds)
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            n = int(seconds // size)
            return f"{n} {unit}{'s' if n != 1 else ''} ago"
    return "just now"


def duration(seconds: float) -> str:
    seconds = int(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {secs}s" if minutes else f"{secs}s"


def also_reported(result: Result) -> list[tuple[str, str]]:
    """(outlet, url) of syndicated copies, one per outlet other than the result's own."""
    seen = {result.outlet.lower()}
    out = []
    for url, outlet in zip(result.also_reported_by, result.also_reported_by_outlets, strict=False):
        if outlet.lower() not in seen:
            seen.add(outlet.lower())
            out.append((outlet, url))
    return out


def ingest_line(last: dict[str, Any] | None) -> str:
    if not last:
        return "no ingest recorded"
    parts = [f"{last.get('new', 0)} new", f"{last.get('updated', 0)} updated",
             f"{last.get('unchanged', 0)} unchanged"]
    if last.get("removed"):
        parts.append(f"{last['removed']} removed")
    parts.append(f"{last.get('failed', 0)} failed")
    return ", ".join(parts) + f" in {float(last.get('seconds') or 0):.0f}s"


# -- limits ------------------------------------------------------------------------------

def embed_length(embed: discord.Embed) -> int:
    """Characters that count toward Discord's 6,000 total for one embed."""
    data: dict[str, Any] = dict(embed.to_dict())
    total = len(data.get("title") or "") + len(data.get("description") or "")
    for f in data.get("fields") or []:
        total += len(f.get("name") or "") + len(f.get("value") or "")
    total += len((data.get("footer") or {}).get("text") or "")
    total += len((data.get("author") or {}).get("name") or "")
    return total


def embed_problems(embed: discord.Embed) -> list[str]:
    """What Discord would refuse in this embed (empty when it is fine)."""
    data: dict[str, Any] = dict(embed.to_dict())
    problems = []
    for key, limit in (("title", st.EMBED_TITLE_MAX), ("description", st.EMBED_DESCRIPTION_MAX)):
        if len(data.get(key) or "") > limit:
            problems.append(f"{key} is {len(data[key])} > {limit}")
    fields = data.get("fields") or []
    if len(fields) > st.EMBED_FIELDS_MAX:
        problems.append(f"{len(fields)} fields > {st.EMBED_FIELDS_MAX}")
    for i, f in enumerate(fields):
        if not f.get("name") or len(f["name"]) > st.EMBED_FIELD_NAME_MAX:
            problems.append(f"field {i} name length {len(f.get('name') or '')}")
        if not f.get("value") or len(f["value"]) > st.EMBED_FIELD_VALUE_MAX:
            problems.append(f"field {i} value length {len(f.get('value') or '')}")
    if len((data.get("footer") or {}).get("text") or "") > st.EMBED_FOOTER_MAX:
        problems.append("footer too long")
    if embed_length(embed) > st.EMBED_TOTAL_MAX:
        problems.append(f"total {embed_length(embed)} > {st.EMBED_TOTAL_MAX}")
    return problems


def check_embed(embed: discord.Embed) -> discord.Embed:
    """Trim whatever is over a limit (a last resort: the builders already budget)."""
    if embed.title and len(embed.title) > st.EMBED_TITLE_MAX:
        embed.title = st.fit(embed.title, st.EMBED_TITLE_MAX)
    if embed.description and len(embed.description) > st.EMBED_DESCRIPTION_MAX:
        embed.description = st.fit(embed.description, st.EMBED_DESCRIPTION_MAX)
    while len(embed.fields) > st.EMBED_FIELDS_MAX:
        embed.remove_field(-1)
    over = embed_length(embed) - st.EMBED_TOTAL_MAX
    if over > 0 and embed.description:
        embed.description = st.fit(embed.description, max(1, len(embed.description) - over))
    problems = embed_problems(embed)
    if problems:
        raise ValueError("embed beyond Discord's limits: " + "; ".join(problems))
    return embed


def content(text: str) -> str:
    """Message content within 2,000 characters."""
    return st.fit(text, st.CONTENT_MAX)


# -- answers -----------------------------------------------------------------------------

def quote_block(result: Result, snippet: str, truncated: bool) -> str:
    """The snippet as a blockquote, key terms bold, "…" where the article goes on
    (`index.display`'s rule, as in the terminal and the CLI)."""
    body = quoted(st.escape_highlighted(snippet, result.highlights),
                          lead=result.leading_ellipsis, tail=truncated or result.trailing_ellipsis)
    return "\n".join("> " + line if line.strip() else ">" for line in body.split("\n"))


def fitted_quote(result: Result, room: int) -> str:
    """`quote_block` of as much of the snippet as fits in `room` characters: whole
    sentences where possible, else whole words."""
    def fits(snippet: str, truncated: bool) -> bool:
        return len(quote_block(result, snippet, truncated)) <= room

    snippet, truncated = st.shorten_to_fit(result.snippet, fits)
    return quote_block(result, snippet, truncated)


def source_lines(result: Result, budget: int) -> list[str]:
    """Title link, outlet and date, and "also reported by" links, in at most `budget` chars."""
    title = st.link(result.title or result.url, result.url, max(20, min(400, budget // 2)))
    lines = [f"**{title}**", f"{st.fit_escaped(result.outlet or 'unknown outlet', 100)} · "
                             f"{human_date(result.published)}"]
    room = budget - sum(len(line) + 1 for line in lines)
    others = also_reported(result)
    named: list[str] = []
    for outlet, url in others[:ALSO_MAX]:
        candidate = st.link(outlet, url, 160)
        # "Also reported by " + names + ", " separators + " and NN more"
        if len("Also reported by ") + sum(len(x) + 2 for x in [*named, candidate]) + 14 > room:
            break
        named.append(candidate)
    if named:
        rest = len(others) - len(named)
        lines.append("Also reported by " + ", ".join(named) + (f" and {rest} more" if rest else ""))
    elif others and room > 40:
        lines.append(f"Also reported by {len(others)} other outlet{'s' if len(others) > 1 else ''}")
    return lines


def result_block(result: Result, budget: int) -> str:
    """One result (quote, title link, outlet and date, syndication) in at most `budget` chars."""
    tail = "\n".join(source_lines(result, budget // 2))
    return fitted_quote(result, budget - 1 - len(tail)) + "\n" + tail


def answer_embed(response: SearchResponse, *, index_age_s: float | None = None,
                 page: int = 1) -> discord.Embed:
    """Up to `len(results)` quoted results in one embed, with a footer on what was searched."""
    title = st.fit_escaped(response.query.strip(), st.EMBED_TITLE_MAX).strip() or "Your question"
    embed = discord.Embed(title=title, colour=COLOR)
    head = []
    if response.notice:
        head.append("*" + st.fit_escaped(human_dates(response.notice), 300) + "*")
    if response.date_filter:
        head.append("Dates: " + st.fit_escaped(response.date_filter, 100))
    head_text = "\n".join(head)
    n = max(1, len(response.results))
    room = st.EMBED_DESCRIPTION_MAX - len(head_text) - 2 * (n + 1)
    blocks = [result_block(r, room // n) for r in response.results]
    embed.description = "\n\n".join(([head_text] if head_text else []) + blocks)
    footer = [f"Searched {response.passages_searched:,} passages"]
    if index_age_s is not None:
        footer.append(f"index updated {ago(index_age_s)}")
    if page > 1:
        footer.append(f"page {page}")
    footer.append("quotes are verbatim; follow the links for context")
    embed.set_footer(text=st.fit(" · ".join(footer), st.EMBED_FOOTER_MAX))
    return check_embed(embed)


def abstain_text(response: SearchResponse) -> str:
    text = f"{NOTHING_FOUND} {TRY_LATEST}"
    if response.notice:
        text += "\n" + st.fit_escaped(human_dates(response.notice), 300)
    return content(text)


def no_more_text(question: str | None = None) -> str:
    """What More says once every result for the question was shown."""
    if not question or not question.strip():
        return "That was everything the index found for this question."
    return f"That was everything the index found for “{st.fit_escaped(question.strip(), 200)}”."


# -- /latest, /sources, /status, /help ---------------------------------------------------

def latest_embed(results: list[Result], *, topic: str | None, days: int | None) -> discord.Embed:
    scope = f" on “{st.fit_escaped(topic, 100)}”" if topic else ""
    window = f" in the last {days} day{'s' if days != 1 else ''}" if days else ""
    embed = discord.Embed(title=st.fit(f"Latest developments{scope}", st.EMBED_TITLE_MAX),
                          colour=COLOR)
    if not results:
        embed.description = f"Nothing in the news index{scope}{window}."
        return check_embed(embed)
    room = (st.EMBED_DESCRIPTION_MAX - 2 * len(results)) // len(results)
    lines = []
    for r in results:
        title = st.link(r.title or r.url, r.url, 300)
        head = f"**{human_date(r.published)}** · **{title}** · {st.fit_escaped(r.outlet, 100)}"
        lede_room = max(40, min(LEDE_CHARS, room - len(head) - 1))
        lines.append(head + ("\n" + fitted_quote(r, lede_room) if r.snippet.strip() else ""))
    embed.description = "\n\n".join(lines)
    if window:
        embed.set_footer(text=f"Stories published{window}, newest first")
    else:
        embed.set_footer(text="Newest first")
    return check_embed(embed)


def since(iso: str | None, now: dt.datetime | None = None) -> str:
    """ "5 minutes ago" for an ISO timestamp; "never" for none."""
    if not iso:
        return "never"
    try:
        when = dt.datetime.fromisoformat(iso)
    except ValueError:
        return "at an unknown time"
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return ago(((now or dt.datetime.now(dt.UTC)) - when).total_seconds())


def feed_health(feed: FeedRow) -> tuple[str, str]:
    """A feed as an embed field: its name, and its health in a few short lines."""
    name = st.fit_escaped(feed.title or urlsplit(feed.url).netloc or feed.url,
                          st.EMBED_FIELD_NAME_MAX)
    # One state per feed, worded as `python -m index sources` words it (FeedRow.health_text).
    health = feed.health
    if health == "disabled":
        after = f" after {feed.failures_in_a_row}" if feed.consecutive_failures else ""
        state = (f"⛔ disabled: {st.fit_escaped(feed.disabled_reason or 'turned off', 60)}{after}"
                 f" · `/feeds enable` turns it back on")
    elif health == "failing":
        state = (f"⚠️ failing: {feed.failures_in_a_row} "
                 f"({st.fit_escaped(feed.last_status or '?', 60)}); backing off")
    elif health == "never fetched":
        state = "⏳ never fetched"
    else:
        state = f"✅ ok ({st.fit_escaped(feed.last_status or 'ok', 40)})"
    lines = [state,
             f"last fetch {since(feed.last_fetch)} · last new item {since(feed.last_new_item)}",
             f"{feed.articles:,} article{'s' if feed.articles != 1 else ''} · every "
             f"{max(1, feed.interval_s // 60)} min",
             st.link(feed.url, feed.url, 300)]
    return name, st.fit("\n".join(lines), st.EMBED_FIELD_VALUE_MAX)


def add_feed_fields(embed: discord.Embed, feeds: list[FeedRow], budget: int) -> int:
    """Add one field per feed while `budget` characters last; how many were added."""
    added = 0
    for feed in feeds:
        name, value = feed_health(feed)
        if added >= st.EMBED_FIELDS_MAX or len(name) + len(value) > budget:
            break
        embed.add_field(name=name, value=value, inline=False)
        budget -= len(name) + len(value)
        added += 1
    return added


def sources_embed(report: SourcesReport) -> discord.Embed:
    embed = discord.Embed(title="Sources", colour=COLOR)
    where = ("the bundled sample corpus (no sources configured)" if report.using_sample
             else f"{len(report.configured)} configured source"
                  f"{'s' if len(report.configured) != 1 else ''}")
    if report.feeds:
        where += f" and {len(report.feeds)} polled feed{'s' if len(report.feeds) != 1 else ''}"
    lines = [f"{report.articles:,} articles from {len(report.outlets)} outlets, read from {where}.",
             ""]
    # Feed health takes what the outlets leave of the 6,000 characters an embed may hold.
    room = st.EMBED_DESCRIPTION_MAX - 60 if not report.feeds else 1500
    shown = 0
    for outlet, count in report.outlets:
        line = f"**{st.fit_escaped(outlet, 100)}** — {count:,} article{'s' if count != 1 else ''}"
        if sum(len(x) + 1 for x in lines) + len(line) > room:
            break
        lines.append(line)
        shown += 1
    if shown < len(report.outlets):
        lines.append(f"…and {len(report.outlets) - shown} more outlets")
    embed.description = "\n".join(lines)
    if report.feeds:
        budget = st.EMBED_TOTAL_MAX - embed_length(embed) - 200
        added = add_feed_fields(embed, report.feeds, budget)
        if added < len(report.feeds):
            embed.set_footer(text=f"{len(report.feeds) - added} more feeds: /feeds list")
    return check_embed(embed)


def status_embed(report: StatusReport) -> discord.Embed:
    embed = discord.Embed(title="Docket status", colour=COLOR)

    def add(name: str, value: str, inline: bool = True) -> None:
        embed.add_field(name=name, value=st.fit(value or "-", st.EMBED_FIELD_VALUE_MAX),
                        inline=inline)

    add("Articles", f"{report.articles:,}")
    add("Passages", f"{report.passages:,}")
    add("Stories", f"{report.stories:,}")
    add("Snapshot", f"`{report.snapshot}`\nbuilt {ago(report.age_seconds)}")
    add("Model", f"{report.model or '?'}\n{report.vector_index or '?'} index")
    add("Uptime", duration(report.uptime_seconds))
    if report.latency_p50_ms is not None and report.latency_p95_ms is not None:
        add("Search latency", f"p50 {report.latency_p50_ms:.0f} ms · p95 "
                              f"{report.latency_p95_ms:.0f} ms ({report.searches_measured} searches)")
    else:
        add("Search latency", "no searches yet")
    add("Last ingest", ingest_line(report.last_ingest), inline=False)
    if report.reindex:
        add("Reindex running", report.reindex, inline=False)
    if report.reload_error:
        add("Refused snapshot", st.fit_escaped(report.reload_error, 900), inline=False)
    if report.feedback:
        fb = report.feedback
        add("Feedback", f"{fb.get('answers', 0):,} answers · 👍 {fb.get('up', 0)} · "
                        f"👎 {fb.get('down', 0)}", inline=False)
    return check_embed(embed)


HELP_LINES = (
    ("/ask question", "Quotes from news articles that answer your question, with links and dates."),
    ("@Docket question", "The same, in channels where the bot answers chat (a reply to one "
                         "of its answers works too)."),
    ("/latest [topic] [days] [count]", "The newest stories, newest first."),
    ("/case name", "A lawsuit's timeline: what happened in each story, newest first."),
    ("/trends [topic] [weeks]", "A chart of stories per week (per month beyond a year)."),
    ("/sources", "The outlets in the index, how many articles each, and each feed's health."),
    ("/status", "Index size and freshness, uptime and search speed."),
    ("/subscribe channel [topic]", "Post new stories (on a topic) to a channel; /unsubscribe "
                                   "stops it (members with Manage Server)."),
    ("/reindex [full]", "Refresh the index (bot owners and the admin role)."),
    ("/feeds add|remove|enable|list", "Manage the polled feeds (bot owners and the admin role)."),
)


def help_embed() -> discord.Embed:
    embed = discord.Embed(
        title="Docket: AI and copyright news, quoted",
        description=("Docket answers with **verbatim quotes** from news articles about AI and "
                     "copyright: lawsuits, rulings, settlements, licensing deals, government "
                     "requests and new laws. Nothing is paraphrased or generated, so check the "
                     "linked article for context. When the index has nothing relevant, Docket "
                     "says so.\n\nAsk specific questions, e.g. *What did Japan ask OpenAI about "
                     "Sora 2?* Use **More** under an answer for further sources, and 👍/👎 to "
                     "tell us whether it helped."),
        colour=COLOR)
    for name, value in HELP_LINES:
        embed.add_field(name=name, value=value, inline=False)
    return check_embed(embed)
