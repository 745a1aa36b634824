"""Plain-text forms of the embeds, for the terminal session (same data, same order).

Article text is cleaned of control characters and escape sequences, so a hostile
article cannot drive the terminal; key terms are bold (ANSI) when `color` is on.
"""

from __future__ import annotations

import textwrap

from index.results import Result, SearchResponse

from . import render
from .safetext import merge_spans, terminal_safe
from .service import SourcesReport, StatusReport

WIDTH = 88
BOLD, RESET = "\x1b[1m", "\x1b[0m"


def _wrap(text: str, indent: str = "") -> str:
    return "\n".join(textwrap.fill(para, WIDTH, initial_indent=indent, subsequent_indent=indent)
                     for para in text.split("\n"))


def highlighted(result: Result, color: bool) -> str:
    text = result.snippet
    if color:
        pieces, pos = [], 0
        for start, end in merge_spans(result.highlights, len(text)):
            pieces += [terminal_safe(text[pos:start]), BOLD, terminal_safe(text[start:end]), RESET]
            pos = end
        pieces.append(terminal_safe(text[pos:]))
        body = "".join(pieces)
    else:
        body = terminal_safe(text)
    body = render.ellipsized(" ".join(body.split()), lead=result.leading_ellipsis,
                             tail=result.trailing_ellipsis)
    return f"“{body}”"


def result_text(number: int, result: Result, color: bool) -> str:
    lines = [_wrap(highlighted(result, color), "    ")]
    lines.append(f"  {number}. {terminal_safe(result.title)}")
    lines.append(f"     {terminal_safe(result.outlet)} · {render.human_date(result.published)}"
                 f" · {terminal_safe(result.url)}")
    others = render.also_reported(result)
    if others:
        lines.append("     also reported by " + ", ".join(
            f"{terminal_safe(outlet)} ({terminal_safe(url)})" for outlet, url in others))
    return "\n".join(lines)


def answer_text(response: SearchResponse, *, index_age_s: float | None = None,
                color: bool = False, offset: int = 0) -> str:
    if response.error:
        return response.error
    if response.abstained or not response.results:
        return render.abstain_text(response).replace("`", "")
    out = []
    if response.notice:
        out.append(f"Note: {terminal_safe(response.notice)}")
    for i, result in enumerate(response.results, start=offset + 1):
        out.append(result_text(i, result, color))
    footer = f"Searched {response.passages_searched:,} passages"
    if index_age_s is not None:
        footer += f" · index updated {render.ago(index_age_s)}"
    if response.has_more:
        footer += " · /more for further results"
    out.append(footer)
    return "\n\n".join(out)


def latest_text(results: list[Result], *, topic: str | None, days: int | None) -> str:
    scope = f" on “{terminal_safe(topic)}”" if topic else ""
    window = f" in the last {days} days" if days else ""
    if not results:
        return f"Nothing in the news index{scope}{window}."
    out = [f"Latest developments{scope}{window}, newest first:"]
    for r in results:
        out.append(f"  {render.human_date(r.published)} · {terminal_safe(r.title)} · "
                   f"{terminal_safe(r.outlet)}\n     {terminal_safe(r.url)}")
        lede = " ".join(terminal_safe(r.snippet).split())
        if lede:
            out.append(_wrap(lede[:240] + ("…" if len(lede) > 240 else ""), "     "))
    return "\n".join(out)


def sources_text(report: SourcesReport) -> str:
    where = ("the bundled sample corpus" if report.using_sample
             else f"{len(report.configured)} configured sources")
    out = [f"{report.articles:,} articles from {len(report.outlets)} outlets ({where}):"]
    out += [f"  {terminal_safe(outlet)}: {count}" for outlet, count in report.outlets]
    if report.feeds:
        out.append(f"{len(report.feeds)} feeds:")
    for feed in report.feeds:
        health = ("ok" if feed.enabled and not feed.consecutive_failures
                  else f"{feed.consecutive_failures} failures in a row ({feed.last_status})"
                  if feed.enabled else f"DISABLED ({feed.disabled_reason})")
        out.append(f"  {terminal_safe(feed.title or feed.url)} · {health} · last fetch "
                   f"{render.since(feed.last_fetch)} · last new item "
                   f"{render.since(feed.last_new_item)} · {feed.articles} articles\n"
                   f"     {terminal_safe(feed.url)}")
    return "\n".join(out)


def status_text(report: StatusReport) -> str:
    latency = ("no searches yet" if report.latency_p50_ms is None or report.latency_p95_ms is None
               else f"p50 {report.latency_p50_ms:.0f} ms, p95 {report.latency_p95_ms:.0f} ms "
                    f"({report.searches_measured} searches)")
    lines = [
        f"articles {report.articles:,} · passages {report.passages:,} · stories {report.stories:,}",
        f"snapshot {report.snapshot}, built {render.ago(report.age_seconds)}",
        f"model {report.model} ({report.vector_index} index)",
        f"last ingest: {render.ingest_line(report.last_ingest)}",
        f"uptime {render.duration(report.uptime_seconds)} · search latency {latency}",
    ]
    if report.reindex:
        lines.append(f"reindex: {report.reindex}")
    if report.reload_error:
        lines.append(f"refused snapshot: {terminal_safe(report.reload_error)}")
    return "\n".join(lines)


TERMINAL_HELP = """Docket answers AI-and-copyright news questions with verbatim quotes from articles.

  <question>                      ask (same as /ask <question>)
  /ask <question>                 quotes from the best sources, with links and dates
  /more                           the next results for the last question
  /latest [topic] [days:N] [count:N]   the newest stories, newest first
  /sources                        outlets and article counts
  /status                         index size, freshness, uptime, search latency
  /reindex [full]                 refresh the index from the configured sources
  /help                           this text
  /quit                           leave (or end of input)"""
