"""Gateway restarts (issue 7): after op 7 RECONNECT and after a dropped socket the bot
RESUMEs (no new IDENTIFY), answers what was asked meanwhile exactly once, never answers a
redelivered event twice, and neither loses nor repeats a subscription post."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from docket_harness import (
    JAPAN,
    Docket,
    caught_up,
    public_bot_messages,
    running_docket,
)
from fakediscord import InteractionRecord, wire
from feedsite import FeedSite, rss
from test_bot_e2e_feeds import (
    BASELINE,
    SONGS,
    _baseline_done,
    eventually,
    feeds_file,
    net_settings,
    subscribe,
    ticks,
)

from bot.announce import Story
from index.embed import Encoder

pytestmark = pytest.mark.asyncio(loop_scope="function")


def answers_to(d: Docket, message: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in public_bot_messages(d.fake, message["channel_id"])
            if (m.get("referenced_message") or {}).get("id") == message["id"]]


async def answered_once(d: Docket, rec: InteractionRecord) -> None:
    reply = await rec.wait_for_reply(timeout=15)
    assert reply["embeds"], rec.describe()
    assert rec.ack_latency is not None and rec.ack_latency < 3, rec.describe()
    await caught_up(d)  # every /ask delivered so far (replays included) has been handled
    assert len(rec.replies) == 1 and len(rec.callbacks) == 1 and not rec.errors, rec.describe()


async def test_op7_and_a_dropped_socket_resume_and_what_was_asked_meanwhile_is_answered_once(
        encoder: Encoder, sample_index: Path, tmp_path: Path) -> None:
    async with running_docket(encoder, sample_index, tmp_path) as d:
        fake, gateway = d.fake, d.fake.gateway
        assert (gateway.identify_count, gateway.resume_count) == (1, 0)

        # op 7: the bot reconnects and resumes; an /ask right after is answered once.
        await fake.request_reconnect()
        assert (gateway.identify_count, gateway.resume_count) == (1, 1)
        await answered_once(d, await fake.dispatch_slash("ask", {"question": JAPAN}))

        # The socket drops (TCP abort): an /ask and a mention sent while the bot is away are
        # replayed on RESUME; each is acknowledged in time and answered once.
        await fake.drop_connection(wait=False)
        away_ask = await fake.dispatch_slash("ask", {"question": JAPAN}, user=fake.admin)
        away_mention = await fake.dispatch_message(f"{fake.bot_user.mention} {JAPAN}")
        await fake.wait_until(lambda: gateway.resume_count == 2 and gateway.connected, timeout=15)
        await answered_once(d, away_ask)
        await fake.wait_until(lambda: answers_to(d, away_mention), timeout=15)

        # A clean close with a resumable code, then an /ask right after the reconnect.
        await fake.drop_connection(4000)
        assert (gateway.identify_count, gateway.resume_count) == (1, 3)
        await answered_once(d, await fake.dispatch_slash("ask", {"question": JAPAN}))

        await caught_up(d)
        assert len(answers_to(d, away_mention)) == 1
        assert gateway.identify_count == 1
        fake.assert_clean()


async def test_a_redelivered_message_is_not_answered_twice(
        encoder: Encoder, sample_index: Path, tmp_path: Path) -> None:
    """The gateway delivers at least once: a MESSAGE_CREATE that arrives again (as after a
    RESUME from an older sequence) must not produce a second answer."""
    async with running_docket(encoder, sample_index, tmp_path) as d:
        fake = d.fake
        question = await fake.dispatch_message(f"{fake.bot_user.mention} {JAPAN}")
        await fake.wait_until(lambda: answers_to(d, question), timeout=15)
        # Redelivered after the answer, and twice more while a fresh question is answered.
        await fake.dispatch_event("MESSAGE_CREATE", wire(question))
        second = await fake.dispatch_message(f"{fake.bot_user.mention} {JAPAN}", author=fake.admin)
        await fake.dispatch_event("MESSAGE_CREATE", wire(second))
        await fake.request_reconnect()
        await fake.dispatch_event("MESSAGE_CREATE", wire(second))
        await fake.wait_until(lambda: answers_to(d, second), timeout=15)
        await caught_up(d)  # the three redeliveries included
        assert len(answers_to(d, question)) == 1
        assert len(answers_to(d, second)) == 1
        fake.assert_clean()


async def test_a_subscription_post_is_neither_lost_nor_repeated_across_a_drop(
        encoder: Encoder, sample_copy: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    with FeedSite() as site:
        wire_feed = site.serve("/wire.xml", rss([BASELINE]))
        monkeypatch.setenv("DOCKET_FEEDS", str(feeds_file(tmp_path, wire_feed)))
        async with running_docket(encoder, sample_copy, tmp_path / "state", poll_feeds=True,
                                  feed_interval_s=0.2,
                                  settings_changes=net_settings(sample_copy)) as d:
            fake, gateway = d.fake, d.fake.gateway
            await subscribe(d, fake.general)
            await eventually(lambda: _baseline_done(d, wire_feed), d)
            await ticks(d, 2)
            assert public_bot_messages(fake, fake.general) == []

            # The socket drops in the middle of the feed tick, just before the post goes out.
            real_post = d.bot.poster.post
            drops: list[str] = []

            async def post_after_a_drop(channel_id: int, story: Story, kind: str) -> int:
                if not drops:
                    drops.append(story.url)
                    await fake.drop_connection(wait=False)
                return await real_post(channel_id, story, kind)

            monkeypatch.setattr(d.bot.poster, "post", post_after_a_drop)
            site.serve("/wire.xml", rss([BASELINE, SONGS]))
            await fake.wait_until(lambda: drops, timeout=60)
            await fake.wait_until(lambda: gateway.resume_count == 1 and gateway.connected,
                                  timeout=15)
            await fake.wait_until(lambda: public_bot_messages(fake, fake.general), timeout=30)
            # And once more with op 7 while later ticks run: nothing is posted again.
            await fake.request_reconnect()
            await ticks(d, 4)
            posts = public_bot_messages(fake, fake.general)
            assert len(posts) == 1 and f"]({SONGS.link})**" in posts[0]["content"]
            assert drops == [SONGS.link]
            assert (gateway.identify_count, gateway.resume_count) == (1, 2)
            fake.assert_clean()
