"""Feeds and subscriptions as Discord messages: posted stories, /feeds replies, notices.

Article and feed text is untrusted: everything goes through `safetext`, and posts are
sent with no allowed mentions as well.
"""

from __future__ import annotations

import discord

from index import QUOTE_CLOSE, QUOTE_OPEN, FeedRow, human_date

from . import safetext as st
from .announce import Story
from .feeds import FeedPreview
from .render import COLOR, add_feed_fields, check_embed
from .subscriptions import Subscription

ALSO_MAX = 3


def announcement_text(story: Story, kind: str) -> str:
    """One story for a subscribed channel: title link, quoted lede, outlet, date, copies."""
    marker = "🔄 **Updated:**" if kind == "updated" else "📰"
    head = f"{marker} **{st.link(story.title or story.url, story.url, 700)}**"
    tail = f"{st.fit_escaped(story.outlet or 'unknown outlet', 100)} · {human_date(story.published)}"
    if story.also:
        named = [st.link(outlet or url, url, 200) for outlet, url in story.also[:ALSO_MAX]]
        rest = len(story.also) - len(named)
        tail += " · also reported by " + ", ".join(named) + (f" and {rest} more" if rest else "")
    room = st.CONTENT_MAX - len(head) - len(tail) - 10
    quote = ""
    if story.lede and room > 40:
        lede = st.fit_escaped(story.lede, min(room, 700) - 2)
        quote = f"> {QUOTE_OPEN}{lede}{QUOTE_CLOSE}\n"
    return st.fit(f"{head}\n{quote}{tail}", st.CONTENT_MAX)


def feeds_embed(feeds: list[FeedRow]) -> discord.Embed:
    """/feeds list: every feed's health, as many as one embed holds."""
    embed = discord.Embed(title="Feeds", colour=COLOR)
    if not feeds:
        embed.description = "No feeds yet. Add one with `/feeds add` or in config/feeds.toml."
        return check_embed(embed)
    disabled = sum(1 for f in feeds if not f.enabled)
    embed.description = (f"{len(feeds)} feed{'s' if len(feeds) != 1 else ''}"
                         + (f", {disabled} disabled" if disabled else "") + ".")
    added = add_feed_fields(embed, feeds, st.EMBED_TOTAL_MAX - 300)
    if added < len(feeds):
        embed.set_footer(text=f"…and {len(feeds) - added} more")
    return check_embed(embed)


def preview_embed(preview: FeedPreview, row: FeedRow, created: bool) -> discord.Embed:
    """/feeds add: what was added, and the first items one fetch found."""
    title = preview.feed.title or preview.url
    verb = "Added" if created else "Updated"
    embed = discord.Embed(title=st.fit_escaped(f"{verb}: {title}", st.EMBED_TITLE_MAX),
                          colour=COLOR)
    lines = [st.link(preview.url, preview.url, 600),
             f"Polled every {max(1, row.interval_s // 60)} min"
             + (f" · only items mentioning {st.fit_escaped(', '.join(row.keywords), 300)}"
                if row.keywords else "") + ".",
             "The first poll indexes what is there without announcing it; stories after "
             "that go to subscribed channels.", ""]
    if not row.enabled:
        lines.insert(2, f"⛔ It is disabled ({st.fit_escaped(row.disabled_reason or '?', 60)}); "
                        f"`/feeds enable` turns it back on.")
    if preview.items:
        lines.append(f"**First {len(preview.items)} of {len(preview.feed.items)} items:**")
        for item_title, link, published in preview.items:
            lines.append(f"• {st.link(item_title, link, 400)} · {human_date(published)}")
    else:
        lines.append("The feed is valid but has no items yet.")
    embed.description = st.fit("\n".join(lines), st.EMBED_DESCRIPTION_MAX)
    return check_embed(embed)


def refused_feed_text(url: str, reason: str, message: str) -> str:
    return st.fit(f"Not added: {st.fit_escaped(url, 300)} — {st.fit_escaped(reason, 40)}: "
                  f"{st.fit_escaped(message, 600)}", st.CONTENT_MAX)


def notice_text(subs: list[Subscription]) -> str:
    """The ephemeral note to a subscriber whose channels refused the bot's posts."""
    lines = []
    for sub in subs:
        error = st.fit_escaped(sub.last_error or "unknown error", 200)
        if sub.enabled:
            lines.append(f"⚠️ I could not post new stories to <#{sub.channel_id}> ({error}); "
                         f"{sub.failures} failed attempt{'s' if sub.failures != 1 else ''} so "
                         f"far. Give me Send Messages there, or the subscription turns off.")
        else:
            lines.append(f"⛔ Your subscription of <#{sub.channel_id}> is turned off after "
                         f"{sub.failures} failed posts ({error}). Fix my permissions there and "
                         f"run `/subscribe` again.")
    return st.fit("\n".join(lines), st.CONTENT_MAX)
