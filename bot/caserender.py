"""A case's timeline as a Discord embed: the latest status on top, then one line per
story (date, outlet, the verbatim sentence that says what happened, a link), newest first,
a page at a time."""

from __future__ import annotations

import discord

from index import QUOTE_CLOSE, QUOTE_OPEN, Case, CaseBook, human_date

from . import safetext as st

COLOR = discord.Colour(0x3B6EA8)
PAGE = 5  # timeline entries per page
ENTRY_MAX = 700  # characters of one entry, link included


def pages(book: CaseBook, case: Case) -> int:
    return max(1, -(-len(book.timeline(case)) // PAGE))


def timeline_embed(book: CaseBook, case: Case, page: int = 0) -> discord.Embed:
    """Page `page` (from 0) of the case's timeline."""
    entries = book.timeline(case)
    total = pages(book, case)
    page = min(max(page, 0), total - 1)
    n = len(entries)
    embed = discord.Embed(title=st.fit_escaped(case.name, st.EMBED_TITLE_MAX), colour=COLOR)
    lines: list[str] = []
    if entries and page == 0:
        latest = entries[0]
        lines.append(f"**Latest** ({human_date(latest.date)}): "
                     f"{QUOTE_OPEN}{st.fit_escaped(latest.sentence, 600)}{QUOTE_CLOSE}")
        lines.append("")
    for e in entries[page * PAGE:(page + 1) * PAGE]:
        head = f"**{human_date(e.date)}** · {st.fit_escaped(e.outlet or 'unknown outlet', 80)}"
        title = book.titles.get(e.story_id) or e.url
        source = st.link(title, e.url, 200)
        room = ENTRY_MAX - len(head) - len(source) - 8
        lines.append(f"{head}\n> {st.fit_escaped(e.sentence, max(80, room))}\n{source}")
    embed.description = st.fit("\n".join(lines), st.EMBED_DESCRIPTION_MAX)
    span = (human_date(case.first) if case.first == case.last
            else f"{human_date(case.first)} – {human_date(case.last)}")
    footer = f"{n} stor{'ies' if n != 1 else 'y'} · {span}"
    if total > 1:
        footer += f" · page {page + 1} of {total}"
    embed.set_footer(text=footer)
    return embed


def not_found_text(book: CaseBook, typed: str) -> str:
    """One sentence for a name that is no known case, with the closest names."""
    if not book.cases:
        return "No cases found in the index yet: ingest some news first."
    closest = book.closest(typed)
    shown = st.fit_escaped(typed, 100)
    if closest:
        return f"No case called “{shown}”. Closest: {'; '.join(st.escape(c) for c in closest)}."
    return f"No case called “{shown}”. Start typing a party's name to see the known cases."
