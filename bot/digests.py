"""Weekly digests: once a week, at a channel's weekday and hour (UTC), the week's stories
grouped by case ("Other news" last) with the week's trend chart attached.

Exactly once per week and channel, across restarts: the week is claimed in bot.sqlite
(`digests.last_week`, an update that succeeds only for a later week) before it is
posted, so a second tick, a second process or a restart finds it taken. A post Discord
fails with a server error is released and tried again on the next tick; a crash between
the claim and the post loses that one digest rather than repeating it. A week with no
stories is claimed and skipped: nothing is posted.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiosqlite
import discord

from index import format_day, render_chart

from . import digestplan
from . import safetext as st
from .announce import PostFailed, PostRefused

log = logging.getLogger(__name__)

COLOR = discord.Colour(0x3B6EA8)
FILENAME = "digest.png"
CHART_WEEKS = 12  # the chart shows the weeks up to the digest's
LINES_PER_GROUP = 6


@dataclass(frozen=True)
class Digest:
    channel_id: int
    guild_id: int | None
    subscriber_id: int
    topic: str | None
    weekday: int
    hour: int
    last_week: dt.date


@dataclass(frozen=True)
class WeekStory:
    story_id: str
    title: str
    url: str
    outlet: str
    published: dt.date | None


class DigestStore:
    """The digests table of bot.sqlite."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self.db = db

    async def subscribe(self, channel_id: int, *, guild_id: int | None, subscriber_id: int,
                        topic: str | None, weekday: int, hour: int, now: dt.datetime) -> bool:
        """A channel's digest (new, or its schedule changed); True when it is new. The
        first digest is the one after the current week: no backlog."""
        start = digestplan.current_week(now, weekday, hour).isoformat()
        async with self.db.execute("SELECT 1 FROM digests WHERE channel_id = ?", (channel_id,)) as cur:
            existed = await cur.fetchone() is not None
        await self.db.execute(
            "INSERT INTO digests(channel_id, guild_id, subscriber_id, topic, weekday, hour, "
            "last_week, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(channel_id) DO UPDATE "
            "SET topic = excluded.topic, weekday = excluded.weekday, hour = excluded.hour, "
            "subscriber_id = excluded.subscriber_id, "
            "last_week = MAX(digests.last_week, excluded.last_week)",
            (channel_id, guild_id, subscriber_id, topic, weekday, hour, start,
             now.isoformat(timespec="seconds")))
        await self.db.commit()
        return not existed

    async def unsubscribe(self, channel_id: int) -> bool:
        cur = await self.db.execute("DELETE FROM digests WHERE channel_id = ?", (channel_id,))
        await self.db.commit()
        return (cur.rowcount or 0) > 0

    async def all(self) -> list[Digest]:
        async with self.db.execute(
                "SELECT channel_id, guild_id, subscriber_id, topic, weekday, hour, last_week "
                "FROM digests ORDER BY channel_id") as cur:
            return [Digest(int(r[0]), None if r[1] is None else int(r[1]), int(r[2]), r[3],
                           int(r[4]), int(r[5]), dt.date.fromisoformat(r[6])) async for r in cur]

    async def claim(self, channel_id: int, week: dt.date) -> bool:
        """Take a week for posting; False when it (or a later one) was taken already."""
        cur = await self.db.execute(
            "UPDATE digests SET last_week = ? WHERE channel_id = ? AND last_week < ?",
            (week.isoformat(), channel_id, week.isoformat()))
        await self.db.commit()
        return (cur.rowcount or 0) == 1

    async def release(self, channel_id: int, week: dt.date, previous: dt.date) -> None:
        """Give a claimed week back after a post that failed (it is tried again)."""
        await self.db.execute("UPDATE digests SET last_week = ? WHERE channel_id = ? AND last_week = ?",
                              (previous.isoformat(), channel_id, week.isoformat()))
        await self.db.commit()


PostDigest = Callable[[int, discord.Embed, bytes, str], Awaitable[int]]


class Digester:
    """Posts the digests that are due; `deliver` runs on the bot's feed tick."""

    def __init__(self, index: Any, store: DigestStore) -> None:
        self.index = index
        self.store = store
        self.posted = 0  # digests sent since start, for status and tests
        self.skipped = 0  # weeks claimed with nothing to post

    async def deliver(self, post: PostDigest, now: dt.datetime | None = None) -> int:
        now = now or dt.datetime.now(dt.UTC)
        sent = 0
        for digest in await self.store.all():
            week = digestplan.due_week(now, digest.weekday, digest.hour, digest.last_week)
            if week is None or not await self.store.claim(digest.channel_id, week):
                continue
            stories = await self.week_stories(week, digest.topic, now.date())
            if not stories:
                self.skipped += 1
                log.info("digest for channel %s, week of %s: no stories, nothing posted",
                         digest.channel_id, week)
                continue
            embed, png, alt = await self.render(week, digest.topic, stories)
            try:
                await post(digest.channel_id, embed, png, alt)
            except PostFailed as exc:
                await self.store.release(digest.channel_id, week, digest.last_week)
                log.warning("digest for channel %s failed, tried again later: %s",
                            digest.channel_id, exc)
                continue
            except PostRefused as exc:
                log.warning("digest for channel %s refused: %s", digest.channel_id, exc)
                continue
            sent += 1
            self.posted += 1
        return sent

    async def week_stories(self, week: dt.date, topic: str | None,
                           today: dt.date) -> list[WeekStory]:
        start, end = digestplan.week_days(week)
        rows = await self.index.snapshot.store.newest(
            since=start.isoformat(), until=(end - dt.timedelta(days=1)).isoformat(), limit=10**6)
        if topic:
            on_topic = {r.url for r in await self.index.latest(
                topic, count=10**6, days=(today - start).days + 1, now=today)}
            rows = [r for r in rows if r.url in on_topic]
        return [WeekStory(str(r.story), r.title, r.url, r.outlet,
                          dt.date.fromisoformat(r.published[:10]) if r.published else None)
                for r in rows]

    async def render(self, week: dt.date, topic: str | None,
                     stories: list[WeekStory]) -> tuple[discord.Embed, bytes, str]:
        book = self.index.cases
        case_of = {sid: c.name for c in book.cases for sid in c.story_ids}
        groups = digestplan.group_by_case(stories, lambda s: case_of.get(s.story_id),
                                          date_of=lambda s: s.published)
        _, end = digestplan.week_days(week)
        last_day = end - dt.timedelta(days=1)
        about = f" on “{st.fit_escaped(topic, 100)}”" if topic else ""
        n = len(stories)
        embed = discord.Embed(
            title=f"Weekly digest{about}: {format_day(week, year=False)} – {format_day(last_day)}",
            colour=COLOR,
            description=f"{n} stor{'ies' if n != 1 else 'y'} this week, by case.")
        for name, items in groups[:st.EMBED_FIELDS_MAX]:
            lines = [f"{format_day(s.published, year=False) if s.published else 'undated'} · "
                     f"{st.link(s.title or s.url, s.url, 150)}" for s in items[:LINES_PER_GROUP]]
            if len(items) > LINES_PER_GROUP:
                lines.append(f"and {len(items) - LINES_PER_GROUP} more")
            embed.add_field(name=st.fit_escaped(name, st.EMBED_FIELD_NAME_MAX),
                            value=st.fit("\n".join(lines), st.EMBED_FIELD_VALUE_MAX), inline=False)
        trend = await self.index.trend(topic, weeks=CHART_WEEKS, now=last_day)
        png = await asyncio.to_thread(render_chart, trend)
        embed.set_image(url=f"attachment://{FILENAME}")
        return embed, png, trend.alt_text()

