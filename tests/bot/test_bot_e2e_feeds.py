"""Feeds polled by the bot and new stories posted to subscribed channels, end to end:
a news site on 127.0.0.1 (feedsite), the real poller and index, the real discord.py
client against the fake Discord API."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from docket_harness import (
    EPHEMERAL,
    Docket,
    assert_inert,
    index_settings,
    public_bot_messages,
    running_docket,
    sample_article_count,
)
from feedsite import FeedSite, Item, rss

from index.embed import Encoder

pytestmark = pytest.mark.asyncio(loop_scope="function")

BASELINE = Item(
    title="Zorblatt Labs ordered to license the Quillfeather archive",
    link="https://wire.example.org/zorblatt-quillfeather",
    paragraphs=["A federal judge ordered Zorblatt Labs to license the Quillfeather archive "
                "before training any further models on it.",
                "The order covers every book in the archive, which the startup had copied "
                "without permission. Zorblatt Labs said it would appeal the licensing order, "
                "and the archive's owners said they welcomed the ruling."])
SONGS = Item(
    title="Record labels sue Quillsong over an AI song generator trained on their catalogues",
    link="https://wire.example.org/labels-sue-quillsong",
    paragraphs=["Three major record labels sued Quillsong on Monday, saying its AI song "
                "generator was trained on millions of their recordings without a licence.",
                "The complaint says Quillsong's tool imitates well-known singers and produces "
                "tracks that compete with the labels' own releases on streaming services.",
                "The labels ask for damages for each of the recordings and for an order that "
                "would stop Quillsong from training on their catalogues."],
    date="Tue, 04 Nov 2025 10:00:00 GMT")
# The same story, syndicated by another outlet under its own address.
SONGS_COPY = dataclasses.replace(SONGS, link="https://syndicate.example.net/quillsong-lawsuit")
HOSTILE = Item(
    title="@everyone Zorblatt <@123456789012345678> wins [free](https://evil.example) case",
    link="https://wire.example.org/zorblatt-appeal",
    paragraphs=["@here An appeals court sided with Zorblatt Labs in its copyright fight over "
                "the Marrowgate photo archive <@&987654321098765432>.",
                "The court said the lower judge had misread the licence terms, and sent the "
                "case back for a new trial on damages. Join discord.gg/zorblatt for details, "
                "the company's spokesperson wrote in a statement to reporters."],
    date="Wed, 05 Nov 2025 10:00:00 GMT")


def feeds_file(tmp_path: Path, *urls: str) -> Path:
    """A feeds.toml listing these feeds, each due on every tick."""
    path = tmp_path / "feeds.toml"
    path.write_text("".join(f'[[feed]]\nurl = "{u}"\ninterval_minutes = 0.0001\n\n' for u in urls),
                    encoding="utf-8")
    return path


def net_settings(data_dir: Path, **fetch: Any) -> dict[str, Any]:
    """settings_changes that let the poller fetch from 127.0.0.1 (only), quickly."""
    base = index_settings(data_dir).fetch
    options: dict[str, Any] = {"allow_private": ("127.0.0.1",), "per_host_delay_s": 0.0,
                               "timeout_s": 5.0, "connect_timeout_s": 2.0}
    options.update(fetch)
    return {"fetch": dataclasses.replace(base, **options)}


async def eventually(check: Callable[[], Awaitable[Any]], d: Docket, within_s: float = 30) -> Any:
    """Re-run an async check after each feed tick until it returns something truthy."""
    deadline = time.monotonic() + within_s
    while True:
        result = await check()
        if result:
            return result
        assert time.monotonic() < deadline, f"timed out waiting for {check}"
        await ticks(d, 1)


async def ticks(d: Docket, n: int) -> None:
    """Wait for n more complete feed ticks (poll, reload, deliver)."""
    target = d.bot.feed_ticks + n
    await d.fake.wait_until(lambda: d.bot.feed_ticks >= target, timeout=60)


async def pause_ticks(d: Docket) -> None:
    """Stop the background feed loop; the test then runs each tick itself with `step_until`."""
    d.bot.feed_tick.cancel()
    await d.fake.wait_until(lambda: not d.bot.feed_tick.is_running(), timeout=30)


async def step_until(check: Callable[[], Awaitable[Any]], d: Docket, steps: int = 30) -> Any:
    """Run one feed tick at a time (the loop paused) until the check holds: nothing moves on
    between two steps, so a state reached after one failure is still there to be seen."""
    for _ in range(steps):
        result = await check()
        if result:
            return result
        await d.bot.feed_tick()
    raise AssertionError(f"{check} did not hold after {steps} ticks")


async def subscribe(d: Docket, channel: Any, topic: str | None = None) -> dict[str, Any]:
    options: dict[str, Any] = {"channel": channel}
    if topic:
        options["topic"] = topic
    rec = await d.fake.dispatch_slash("subscribe", options, user=d.fake.manager)
    reply = await rec.wait_for_reply(timeout=10)
    assert reply["flags"] & EPHEMERAL
    return reply


async def test_a_new_story_reaches_each_subscribed_channel_once_on_topic_and_pings_nobody(
        encoder: Encoder, sample_copy: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    with FeedSite() as site:
        wire = site.serve("/wire.xml", rss([BASELINE]))
        synd = site.serve("/synd.xml", rss([], title="Docket Syndication Desk"))
        monkeypatch.setenv("DOCKET_FEEDS", str(feeds_file(tmp_path, wire, synd)))
        async with running_docket(encoder, sample_copy, tmp_path / "state", poll_feeds=True,
                                  feed_interval_s=0.2,
                                  settings_changes=net_settings(sample_copy)) as d:
            fake = d.fake
            sports = await fake.add_text_channel("sports")
            assert "will get new stories" in (await subscribe(d, fake.general))["content"]
            await subscribe(d, fake.bot_commands, "songwriters and record labels")
            await subscribe(d, sports, "football transfers")
            # The first poll of a feed is its baseline: indexed, never announced.
            await eventually(lambda: _baseline_done(d, wire), d)
            await ticks(d, 2)
            for channel in (fake.general, fake.bot_commands, sports):
                assert public_bot_messages(fake, channel) == []
            # The sample's articles and the baseline story.
            assert d.service.index.snapshot.manifest["articles"] == sample_article_count() + 1

            site.serve("/wire.xml", rss([BASELINE, SONGS, HOSTILE]))
            await fake.wait_until(lambda: len(public_bot_messages(fake, fake.general)) == 2,
                                  timeout=60)
            await fake.wait_until(lambda: public_bot_messages(fake, fake.bot_commands), timeout=30)
            await ticks(d, 2)  # polled twice more: nothing is posted again
            general = public_bot_messages(fake, fake.general)
            assert len(general) == 2
            songs = next(m for m in general if "Quillsong" in m["content"])
            assert songs["content"].startswith("📰 **[Record labels sue Quillsong")
            assert f"]({SONGS.link})**" in songs["content"]
            assert "> “Three major record labels sued Quillsong on Monday" in songs["content"]
            assert "Docket Test Wire · 4 Nov 2025" in songs["content"]
            # The topic matched by meaning (its words are not in the story) ...
            topical = public_bot_messages(fake, fake.bot_commands)
            assert [m["content"] for m in topical] == [songs["content"]]
            # ... and an unrelated topic matched nothing.
            assert public_bot_messages(fake, sports) == []

            hostile = next(m for m in general if "Zorblatt" in m["content"])
            assert hostile["pinged"] == [] and hostile["mentions"] == []
            assert hostile["mention_roles"] == [] and not hostile["mention_everyone"]
            assert_inert(hostile["content"])

            # A syndicated copy of a posted story is the same story: not posted again.
            site.serve("/synd.xml", rss([SONGS_COPY], title="Docket Syndication Desk"))
            copy = await eventually(lambda: _announced(d, SONGS_COPY.link), d)
            await eventually(lambda: _handled(d, copy), d)
            assert len(public_bot_messages(fake, fake.general)) == 2
            assert len(public_bot_messages(fake, fake.bot_commands)) == 1
            # Every feed request after the first carried the validators it was given.
            later = site.hits("/wire.xml")[1:]
            assert later and all("If-None-Match" in h for h in later)

            # A restart remembers what was posted where; /unsubscribe stops a channel.
            await fake.stop_bot(d.bot)
            async with running_docket(encoder, sample_copy, tmp_path / "state", fake=fake,
                                      poll_feeds=True, feed_interval_s=0.2,
                                      settings_changes=net_settings(sample_copy)) as again:
                await ticks(again, 3)
                assert len(public_bot_messages(fake, fake.general)) == 2
                rec = await fake.dispatch_slash("unsubscribe", {"channel": fake.general},
                                                user=fake.server_owner)
                assert "no longer gets new stories" in (await rec.wait_for_reply())["content"]
                assert await again.service.subscriptions.get(fake.general.id) is None
            fake.assert_clean()


async def _baseline_done(d: Docket, url: str) -> bool:
    state = await d.service.feeds.state()
    row = await state.feed(url)
    return bool(row and row.baseline_done)


async def _announced(d: Docket, url: str) -> int:
    for a in await d.service.feeds.announcements_after(0):
        if a["url"] == url:
            return int(a["id"])
    return 0


async def _handled(d: Docket, announcement_id: int) -> bool:
    subs = await d.service.subscriptions.active()
    return all(s.cursor >= announcement_id for s in subs)


async def test_a_channel_the_bot_cannot_post_in_is_reported_to_the_subscriber_then_turned_off(
        encoder: Encoder, sample_copy: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    with FeedSite() as site:
        wire = site.serve("/wire.xml", rss([BASELINE]))
        monkeypatch.setenv("DOCKET_FEEDS", str(feeds_file(tmp_path, wire)))
        async with running_docket(encoder, sample_copy, tmp_path / "state", poll_feeds=True,
                                  feed_interval_s=0.2, subscription_max_failures=2,
                                  settings_changes=net_settings(sample_copy)) as d:
            fake = d.fake
            reply = await subscribe(d, fake.read_only)
            assert "I can't post in" in reply["content"] and "after 2 failed posts" in reply["content"]
            await eventually(lambda: _baseline_done(d, wire), d)
            await pause_ticks(d)  # one failed post at a time, each seen before the next
            site.serve("/wire.xml", rss([BASELINE, SONGS]))

            channel = fake.read_only.id
            sub = await step_until(lambda: _failed(d, channel, 1), d)
            assert sub.enabled and sub.failures == 1
            assert "Missing Permissions" in (sub.last_error or "")
            # Someone else's command says nothing; the subscriber's next one does, once.
            other = await fake.dispatch_slash("help", user=fake.member)
            await other.wait_for_reply()
            rec = await fake.dispatch_slash("help", user=fake.manager)
            note = await rec.wait_for(lambda m: m["_kind"] == "followup", timeout=10)
            assert note["flags"] & EPHEMERAL and "I could not post new stories to" in note["content"]
            assert f"<#{channel}>" in note["content"] and note["pinged"] == []
            assert not [m for m in other.messages if m["_kind"] == "followup"]

            sub = await step_until(lambda: _failed(d, channel, 2), d)
            assert not sub.enabled and sub.disabled_reason
            rec = await fake.dispatch_slash("status", user=fake.manager)
            note = await rec.wait_for(lambda m: m["_kind"] == "followup"
                                      and "turned off" in m["content"], timeout=15)
            assert note["flags"] & EPHEMERAL
            refused = site.hits("/wire.xml")
            for _ in range(2):  # turned off: no more attempts
                await d.bot.feed_tick()
            subscription = await d.service.subscriptions.get(channel)
            assert subscription is not None and subscription.failures == 2
            assert len(site.hits("/wire.xml")) > len(refused)  # while polling goes on
            assert public_bot_messages(fake, fake.read_only) == []
            # The fake records each refused post as a violation; those are the test.
            assert fake.violations and all("lacks Send Messages in #announcements" in v
                                           for v in fake.violations)
            fake.violations.clear()
            fake.assert_clean()


async def _failed(d: Docket, channel_id: int, failures: int) -> Any:
    sub = await d.service.subscriptions.get(channel_id)
    return sub if sub is not None and sub.failures >= failures else None


async def test_feeds_are_managed_from_discord_and_their_health_is_shown(
        encoder: Encoder, sample_copy: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    with FeedSite() as site:
        broken = site.fail("/broken.xml", 500)
        wire = site.serve("/wire.xml", rss([BASELINE, SONGS]))
        page = site.serve("/about.html", "<html><body><h1>About us</h1><p>Hello.</p></body></html>",
                          content_type="text/html")
        monkeypatch.setenv("DOCKET_FEEDS", str(feeds_file(tmp_path, broken)))
        async with running_docket(encoder, sample_copy, tmp_path / "state", poll_feeds=True,
                                  feed_interval_s=0.2,
                                  settings_changes=net_settings(sample_copy, max_failures=2)) as d:
            fake = d.fake
            row = await eventually(lambda: _disabled(d, broken), d)
            assert row.disabled_reason == "http_500" and row.consecutive_failures == 2

            sources = await (await fake.dispatch_slash("sources")).wait_for_reply(timeout=15)
            embed = sources["embeds"][0]
            assert "and 1 polled feed" in embed["description"]
            field = embed["fields"][0]
            assert "⛔ disabled: http\\_500 after 2 failures in a row" in field["value"]
            assert "last fetch" in field["value"] and "0 articles" in field["value"]

            # Maintenance is for owners and the admin role; subscriptions for Manage Server.
            for name, options, sub in (("feeds", {"url": wire}, "add"),
                                       ("subscribe", {"channel": fake.general}, None)):
                rec = await fake.dispatch_slash(name, options, subcommand=sub, user=fake.member,
                                                bypass_permission_gate=True)
                refusal = await rec.wait_for_reply()
                assert refusal["flags"] & EPHEMERAL and refusal["content"].startswith("Only ")

            # The admin role lacks Manage Server: a server admin let it see /feeds (Integrations).
            admin: dict[str, Any] = {"user": fake.admin, "bypass_permission_gate": True}
            rec = await fake.dispatch_slash("feeds", {"url": page}, subcommand="add", **admin)
            refused = await rec.wait_for_reply(timeout=15)
            assert refused["flags"] & EPHEMERAL
            assert refused["content"].startswith("Not added:") and "not\\_a\\_feed" in refused["content"]

            rec = await fake.dispatch_slash("feeds", {"url": wire, "interval": 15,
                                                      "keywords": "copyright, licence"},
                                            subcommand="add", **admin)
            added = (await rec.wait_for_reply(timeout=15))["embeds"][0]
            assert added["title"] == "Added: Docket Test Wire"
            assert "Polled every 15 min · only items mentioning copyright, licence" in added["description"]
            assert "**First 2 of 2 items:**" in added["description"]
            assert f"({SONGS.link})" in added["description"]
            state = await d.service.feeds.state()
            row = await state.feed(wire)
            assert row is not None and row.origin == "discord"

            site.serve("/broken.xml", rss([BASELINE]))
            rec = await fake.dispatch_slash("feeds", {"url": broken}, subcommand="enable",
                                            user=fake.owner, bypass_permission_gate=True)
            assert "Enabled" in (await rec.wait_for_reply())["content"]
            fixed = await eventually(lambda: _healthy(d, broken), d)
            assert fixed.consecutive_failures == 0 and fixed.articles == 1

            listing = await (await fake.dispatch_slash("feeds", subcommand="list",
                                                       **admin)).wait_for_reply(timeout=15)
            values = [f["value"] for f in listing["embeds"][0]["fields"]]
            assert len(values) == 2 and all("✅ ok" in v or "⏳" in v for v in values)

            rec = await fake.dispatch_slash("feeds", {"url": broken}, subcommand="remove", **admin)
            gone = (await rec.wait_for_reply())["content"]
            assert gone.startswith("Removed") and "comes back when the bot restarts" in gone
            assert [f.url for f in await d.service.feeds.feeds()] == [wire]
            fake.assert_clean()


async def _disabled(d: Docket, url: str) -> Any:
    for row in await d.service.feeds.feeds():
        if row.url == url and not row.enabled:
            return row
    return None


async def _healthy(d: Docket, url: str) -> Any:
    for row in await d.service.feeds.feeds():
        # Healthy: fetched without error; a later poll may find it unchanged (304).
        if row.url == url and row.health == "ok" and row.last_success:
            return row
    return None
