"""Plain-text forms of the embeds, for the terminal session (same data, same order).

Article text is cleaned of control characters and escape sequences, so a hostile
article cannot drive the terminal; key terms are bold (ANSI) when `color` is on.
Quotes and dates follow `index.display`, as in Discord and the CLI; lines are wrapped
by the columns a reader sees, and only at spaces.
"""

from __future__ import annotations

import re
import unicodedata

from index import LEDE_CHARS, Result, SearchResponse, human_date, human_dates, quoted, shorten

from . import render
from .safetext import merge_spans, terminal_safe
from .service import SourcesReport, StatusReport

WIDTH = 88
BOLD, RESET = "\x1b[1m", "\x1b[0m"
_SGR = re.compile(r"\x1b\[[0-9;]*m")  # the only escapes textforms itself writes
_SEPARATORS = frozenset("·—–-|")
_BREAKABLE = re.compile(r"[^\S\u00a0\u2007\u202f]+")  # whitespace, but never a no-break space


def visible_width(text: str) -> int:
    """Columns `text` takes in a terminal: escape codes none, wide (CJK) characters two."""
    return sum(0 if unicodedata.combining(ch) else
               2 if unicodedata.east_asian_width(ch) in "WF" else 1
               for ch in _SGR.sub("", text))


def wrap(text: str, indent: str = "", *, first: str | None = None, width: int = WIDTH) -> str:
    """Each paragraph of `text` in lines of at most `width` visible columns.

    Lines break only at spaces, so a hyphenated word, a URL or a quote's "…”" stays
    whole; a single word wider than the line gets a line of its own. A bold run that
    crosses a line break is closed at the end of the line and reopened after the indent.
    """
    out: list[str] = []

    def lead(line: int) -> str:
        return first if first is not None and not out and line == 0 else indent

    for para in text.split("\n"):
        lines: list[list[str]] = []
        used = 0
        for word in _words(para):
            size = visible_width(word)
            if lines and used + 1 + size <= width - visible_width(lead(len(lines) - 1)):
                lines[-1].append(word)
                used += 1 + size
            else:
                lines.append([word])
                used = size
        bold = False
        for number, words in enumerate(lines):
            line = (BOLD if bold else "") + " ".join(words)
            codes = _SGR.findall(line)
            bold = bool(codes) and codes[-1] == BOLD
            out.append(lead(number) + line + (RESET if bold else ""))
        if not lines:
            out.append("")
    return "\n".join(out)


def _words(para: str) -> list[str]:
    """The units `wrap` breaks between: words, a lone separator ("·", "—") kept with the
    word before it so that no line starts with one."""
    out: list[str] = []
    for word in _BREAKABLE.split(para):
        if not word:
            continue
        if out and word in _SEPARATORS:
            out[-1] += " " + word
        else:
            out.append(word)
    return out


def highlighted(result: Result, color: bool, snippet: str | None = None,
                truncated: bool = False) -> str:
    """The snippet (or its shortened `snippet`) as a quote, key terms bold when `color`."""
    text = result.snippet if snippet is None else snippet
    if color:
        pieces, pos = [], 0
        for start, end in merge_spans(result.highlights, len(text)):
            pieces += [terminal_safe(text[pos:start]), BOLD, terminal_safe(text[start:end]), RESET]
            pos = end
        pieces.append(terminal_safe(text[pos:]))
        body = "".join(pieces)
    else:
        body = terminal_safe(text)
    return quoted(" ".join(_words(body)), lead=result.leading_ellipsis,
                          tail=truncated or result.trailing_ellipsis)


def lede(result: Result, color: bool) -> str:
    """A story's quoted lede in a list of stories: whole sentences, or else whole words."""
    snippet, truncated = shorten(result.snippet, LEDE_CHARS)
    return highlighted(result, color, snippet, truncated)


def result_text(number: int, result: Result, color: bool) -> str:
    lines = [wrap(highlighted(result, color), "    ")]
    lines.append(wrap(terminal_safe(result.title), "     ", first=f"  {number}. "))
    lines.append(wrap(f"{terminal_safe(result.outlet)} · {human_date(result.published)}",
                      "     "))
    lines.append(f"     {terminal_safe(result.url)}")
    others = render.also_reported(result)
    if others:
        lines.append(wrap("also reported by " + ", ".join(
            f"{terminal_safe(outlet)} ({terminal_safe(url)})" for outlet, url in others), "     "))
    return "\n".join(lines)


def no_more_text(question: str, *, found: bool = True) -> str:
    """/more once every result for the question was shown (or when there was none)."""
    if not found:
        return f"Nothing more: the index found nothing for “{terminal_safe(question)}”."
    return f"That was everything the index found for “{terminal_safe(question)}”."


def answer_text(response: SearchResponse, *, index_age_s: float | None = None,
                color: bool = False, offset: int = 0) -> str:
    if response.error:
        return response.error
    if not response.results:  # a fact-abstention still shows the closest coverage
        text = f"{render.NOTHING_FOUND} {render.TRY_LATEST.replace('`', '')}"
        if response.notice:
            text += "\n" + terminal_safe(human_dates(response.notice))
        return wrap(text)
    out = []
    if response.notice:
        out.append(wrap(f"Note: {terminal_safe(human_dates(response.notice))}"))
    for i, result in enumerate(response.results, start=offset + 1):
        out.append(result_text(i, result, color))
    footer = f"Searched {response.passages_searched:,} passages"
    if index_age_s is not None:
        footer += f" · index updated {render.ago(index_age_s)}"
    if response.has_more:
        footer += " · /more for further results"
    out.append(footer)
    return "\n\n".join(out)


def latest_text(results: list[Result], *, topic: str | None, days: int | None,
                color: bool = False) -> str:
    scope = f" on “{terminal_safe(topic)}”" if topic else ""
    window = f" in the last {days} days" if days else ""
    if not results:
        return f"Nothing in the news index{scope}{window}."
    out = [wrap(f"Latest developments{scope}{window}, newest first:")]
    for r in results:
        out.append(wrap(f"{human_date(r.published)} · {terminal_safe(r.title)} · "
                        f"{terminal_safe(r.outlet)}", "     ", first="  "))
        out.append(f"     {terminal_safe(r.url)}")
        if r.snippet.strip():
            out.append(wrap(lede(r, color), "     "))
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
  /case <name>                    a lawsuit's timeline, newest first (/cases lists them)
  /trends [topic] [weeks:N]       stories per week as a chart (written to a file)
  /sources                        outlets and article counts
  /status                         index size, freshness, uptime, search latency
  /reindex [full]                 refresh the index from the configured sources
  /help                           this text
  /quit                           leave (or end of input)"""
