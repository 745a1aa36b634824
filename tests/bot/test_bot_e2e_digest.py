"""Weekly digests end to end: /subscribe in digest mode, the week's stories posted once by
case with the trend chart attached, never twice (not after a restart either), and a week
without stories skipped with no post."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from docket_harness import EPHEMERAL, public_bot_messages, running_docket

from bot.feedback import DB_FILE
from index.embed import Encoder

pytestmark = pytest.mark.asyncio(loop_scope="function")

# Monday 29 Sep 2025, 10:00 UTC: the digest of 22-28 Sep 2025 is due (the default
# schedule is Mondays at 09:00 UTC). That week holds the Bartz settlement's approval.
DUE = dt.datetime(2025, 9, 29, 10, 0, tzinfo=dt.UTC)
SUBSCRIBED = DUE - dt.timedelta(days=7)


async def without_ticks(d: Any) -> None:
    """Stop the bot's own tick, which delivers digests by the real clock: the test moves
    the clock itself."""
    d.bot.feed_tick.cancel()
    await d.fake.wait_until(lambda: not d.bot.feed_tick.is_running(), timeout=30)


async def digest_posts(d: Any, channel: Any) -> list[dict[str, Any]]:
    return [m for m in public_bot_messages(d.fake, channel)
            if any("Weekly digest" in (e.get("title") or "") for e in m.get("embeds") or [])]


async def test_subscribe_in_digest_mode_says_when_and_stores_the_schedule(
        encoder: Encoder, sample_index: Path, tmp_path: Path) -> None:
    async with running_docket(encoder, sample_index, tmp_path) as d:
        rec = await d.fake.dispatch_slash("subscribe", {"channel": d.fake.general, "mode": "digest",
                                                        "weekday": 4, "hour": 17},
                                          user=d.fake.manager)
        reply = await rec.wait_for_reply(timeout=10)
        assert reply["flags"] & EPHEMERAL
        assert "a weekly digest every Friday at 17:00 UTC, the first on " in reply["content"]
        bad = await (await d.fake.dispatch_slash(
            "subscribe", {"channel": d.fake.general, "mode": "digest", "hour": 24},
            user=d.fake.manager)).wait_for_reply(timeout=10)
        assert bad["flags"] & EPHEMERAL and "hour" in bad["content"] and "23" in bad["content"]
        [row] = await d.service.digests.all()
        assert (row.channel_id, row.weekday, row.hour) == (d.fake.general.id, 4, 17)
        gone = await (await d.fake.dispatch_slash("unsubscribe", {"channel": d.fake.general},
                                                  user=d.fake.manager)).wait_for_reply(timeout=10)
        assert "no longer gets" in gone["content"] and await d.service.digests.all() == []
        d.fake.assert_clean()


async def test_a_digest_is_posted_once_grouped_by_case_and_never_again(
        encoder: Encoder, sample_index: Path, tmp_path: Path) -> None:
    async with running_docket(encoder, sample_index, tmp_path) as d:
        await without_ticks(d)
        channel = d.fake.general
        await d.service.digests.subscribe(channel.id, guild_id=None, subscriber_id=1, topic=None,
                                          weekday=0, hour=9, now=SUBSCRIBED)
        # Before the moment: nothing is due.
        assert await d.service.digester.deliver(d.bot.poster.post_digest,
                                                now=DUE - dt.timedelta(hours=2)) == 0
        assert await d.service.digester.deliver(d.bot.poster.post_digest, now=DUE) == 1
        [post] = await digest_posts(d, channel)
        [embed] = post["embeds"]
        assert embed["title"] == "Weekly digest: 22 Sep – 28 Sep 2025"
        fields = [f["name"] for f in embed["fields"]]
        assert "Bartz v. Anthropic" in fields
        assert fields[-1] == "Other news" or "Other news" not in fields
        [attachment] = post["attachments"]
        assert attachment["filename"] == "digest.png" and attachment["description"]
        assert embed["image"]["url"] == "attachment://digest.png"
        # Every story listed is dated within the week.
        assert all("Sep" in line for f in embed["fields"] for line in f["value"].split("\n")
                   if not line.startswith("and "))
        # Ticks go on: the same week is never posted again.
        assert await d.service.digester.deliver(d.bot.poster.post_digest, now=DUE) == 0
        assert await d.service.digester.deliver(
            d.bot.poster.post_digest, now=DUE + dt.timedelta(days=3)) == 0
        # A restart remembers the week: it is not posted again.
        await d.fake.stop_bot(d.bot)
        async with running_docket(encoder, sample_index, tmp_path, fake=d.fake) as again:
            await without_ticks(again)
            assert await again.service.digester.deliver(again.bot.poster.post_digest, now=DUE) == 0
            assert len(await digest_posts(again, channel)) == 1
            with sqlite3.connect(tmp_path / DB_FILE) as db:
                [(last,)] = db.execute("SELECT last_week FROM digests").fetchall()
            assert last == "2025-09-22"
            # The next week is another digest (posted, or skipped when it had no stories).
            sent = await again.service.digester.deliver(again.bot.poster.post_digest,
                                                        now=DUE + dt.timedelta(days=7))
            assert sent + again.service.digester.skipped == 1
            assert len(await digest_posts(again, channel)) == 1 + sent
            [row] = await again.service.digests.all()
            assert row.last_week == dt.date(2025, 9, 29)
            again.fake.assert_clean()


async def test_a_week_without_stories_is_skipped_with_no_post(
        encoder: Encoder, sample_index: Path, tmp_path: Path) -> None:
    quiet = dt.datetime(2026, 6, 1, 10, 0, tzinfo=dt.UTC)  # a Monday after the sample's news
    async with running_docket(encoder, sample_index, tmp_path) as d:
        await without_ticks(d)
        await d.service.digests.subscribe(d.fake.general.id, guild_id=None, subscriber_id=1,
                                          topic=None, weekday=0, hour=9,
                                          now=quiet - dt.timedelta(days=7))
        assert await d.service.digester.deliver(d.bot.poster.post_digest, now=quiet) == 0
        assert d.service.digester.skipped == 1 and await digest_posts(d, d.fake.general) == []
        d.fake.assert_clean()
