"""Making untrusted text (article text, titles, questions) inert in Discord, and short enough.

Article text is data, never markup: after `escape` it shows verbatim, with no
formatting, no links and no mentions, whatever it contains. Key terms are bolded
by placing private-use placeholders at their offsets *before* escaping and
turning them into `**` after, so that no escape can be split by the bolding.
Truncation cuts the raw text after a whole sentence or word (`index.display`, the rule
the CLI and the terminal follow too) and measures the escaped result, so an escape
sequence is never cut in half.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from urllib.parse import quote, urlsplit

import discord

from index import ELLIPSIS, shorten, shorten_to_fit

# Discord's documented limits (https://discord.com/developers/docs/resources/message).
CONTENT_MAX = 2000
EMBED_TITLE_MAX = 256
EMBED_DESCRIPTION_MAX = 4096
EMBED_FIELDS_MAX = 25
EMBED_FIELD_NAME_MAX = 256
EMBED_FIELD_VALUE_MAX = 1024
EMBED_FOOTER_MAX = 2048
EMBED_AUTHOR_MAX = 256
EMBED_TOTAL_MAX = 6000

ZWSP = "\u200b"
URL_MAX = 512  # longer links are shown as text-free references rather than risk the limits

# Placeholders for bold spans, brackets and ">" while escaping; removed from input first.
_BOLD_ON, _BOLD_OFF, _OPEN, _CLOSE, _GT = "\ue000", "\ue001", "\ue002", "\ue003", "\ue004"
_PLACEHOLDERS = re.compile("[\ue000-\ue004]")
# C0/C1 controls (but tab and newline) and bidirectional overrides/isolates, which can
# reorder what a reader sees.
_INVISIBLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_INVITE = re.compile(r"(?i)(discord(?:app)?)\.(gg|com/invite|me)")
_ORDERED_LIST = re.compile(r"(?m)^(\s*\d+)\.(?=\s)")
_HEADING = re.compile(r"(?m)^(\s*)#")


def clean(text: str) -> str:
    """Drop control and bidi-override characters; keep newlines and tabs."""
    return _INVISIBLE.sub("", text)


def escape(text: str) -> str:
    """Make text inert: Discord shows it as typed, with no markdown, links or mentions."""
    return _escape(_PLACEHOLDERS.sub("\ufffd", clean(text)))


def _escape(text: str) -> str:
    # ">" anywhere, not only at a line start: a fragment (an outlet name) may end up at one.
    text = text.replace("[", _OPEN).replace("]", _CLOSE).replace(">", _GT)
    # ignore_links=False: a URL is neutralized below, so its underscores must be escaped too.
    text = discord.utils.escape_markdown(text, ignore_links=False)
    text = _ORDERED_LIST.sub(r"\1\\.", text)
    text = _HEADING.sub(r"\1\\#", text)
    text = text.replace(_OPEN, "\\[").replace(_CLOSE, "\\]").replace(_GT, "\\>")
    # Every "@" and "<" gets a zero-width space: no @everyone, @here, <@id>, <@&id>, <#id>,
    # </cmd:id>, <t:...> or <https://...> survives, whatever follows.
    text = text.replace("@", "@" + ZWSP).replace("<", "<" + ZWSP)
    text = text.replace("://", ":" + ZWSP + "//")
    text = _INVITE.sub(lambda m: m.group(1) + ZWSP + "." + m.group(2), text)
    return text


def merge_spans(spans: Iterable[tuple[int, int]], length: int) -> list[tuple[int, int]]:
    """Sorted, clipped, non-overlapping, non-touching spans within [0, length)."""
    out: list[tuple[int, int]] = []
    for start, end in sorted((max(0, int(s)), min(length, int(e))) for s, e in spans):
        if end <= start:
            continue
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def escape_highlighted(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """Escape `text` and bold the given character spans (offsets into `text`)."""
    text = _PLACEHOLDERS.sub("\ufffd", text)
    pieces: list[str] = []
    pos = 0
    for start, end in merge_spans(spans, len(text)):
        span = clean(text[start:end])
        # Bold markers hug the words ("** word**" is not bold) and never wrap nothing.
        inner = span.strip()
        if not inner:
            continue
        lead = span[: len(span) - len(span.lstrip())]
        trail = span[len(span.rstrip()):]
        pieces += [clean(text[pos:start]), lead, _BOLD_ON, inner, _BOLD_OFF, trail]
        pos = end
    pieces.append(clean(text[pos:]))
    marked = _escape("".join(pieces))
    return marked.replace(_BOLD_ON, "**").replace(_BOLD_OFF, "**")


def fit(text: str, limit: int) -> str:
    """Plain text within `limit` characters, cut at a boundary with "…" when too long."""
    if len(text) <= limit:
        return text
    short, _ = shorten(text, limit)
    return short + ELLIPSIS


def fit_escaped(text: str, limit: int) -> str:
    """`escape(text)`, shortened at a boundary (with "…") so that it fits in `limit`."""
    short, cut = shorten_to_fit(text, lambda t, c: len(escape(t)) + (len(ELLIPSIS) if c else 0)
                                <= limit)
    return escape(short) + (ELLIPSIS if cut else "")


def safe_url(url: str | None) -> str | None:
    """An http(s) URL safe inside a markdown link `(...)`, or None."""
    if not url:
        return None
    url = clean(url).strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in {"http", "https"} or not parts.netloc:
        return None
    # Percent-encode whatever could end the link or start new markup: ()[]<>"\ and spaces.
    safe = quote(url, safe="/:?#&=%+,;~!$*'.-_@")
    return safe if len(safe) <= URL_MAX else None


def link(text: str, url: str | None, limit: int) -> str:
    """A masked link with escaped text, or just the escaped text when the URL is unusable."""
    target = safe_url(url)
    if target is None:
        return fit_escaped(text, limit)
    room = limit - len(target) - 4
    if room < 8:
        return fit_escaped(text, limit)
    return f"[{fit_escaped(text, room)}]({target})"


def terminal_safe(text: str) -> str:
    """Text for a terminal: controls and escape sequences removed, NFC-normalized."""
    return unicodedata.normalize("NFC", clean(text.replace("\x1b", "")))
