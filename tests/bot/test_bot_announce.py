"""Posting new stories without Discord: the announcer's rate limit, retries and topic
matching, and how a posted story looks, within Discord's limits."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from docket_harness import assert_inert, bot_config, index_settings

from bot import feedrender, render
from bot.announce import PostFailed, PostRefused, Story, keyword_match
from bot.service import open_service
from index.embed import Encoder
from index.feeds.state import FeedRow


class Recorder:
    """A Poster that keeps what it was given, or fails as told."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, str, str]] = []
        self.fail: Exception | None = None

    async def post(self, channel_id: int, story: Story, kind: str) -> int:
        if self.fail is not None:
            raise self.fail
        self.sent.append((channel_id, story.url, kind))
        return len(self.sent)


@pytest.mark.asyncio(loop_scope="function")
async def test_a_channel_gets_at_most_its_rate_and_the_rest_waits_for_later_ticks(
        encoder: Encoder, sample_copy: Path, tmp_path: Path) -> None:
    service = await open_service(index_settings(sample_copy),
                                 bot_config(state_dir=tmp_path, posts_per_minute=2), encoder)
    try:
        async with service.index.snapshot.store.db.execute(
                "SELECT min(url) FROM articles GROUP BY coalesce(story_id, id) LIMIT 4") as cur:
            urls = [r[0] async for r in cur]
        state = await service.feeds.state()
        await state.announce([(u, "new", "feed") for u in urls[:3]])
        await service.subscriptions.subscribe(7, guild_id=None, topic=None, subscriber_id=1,
                                              cursor=0)
        now = [dt.datetime(2025, 11, 3, 12, 0, tzinfo=dt.UTC)]
        service.announcer.clock = lambda: now[0]
        poster = Recorder()

        first = await service.announcer.deliver(poster)
        assert [u for _, u, _ in poster.sent] == urls[:2] and first.waiting == 1
        now[0] += dt.timedelta(seconds=30)
        assert (await service.announcer.deliver(poster)).posted == []  # still within the minute
        # A passing failure loses nothing: the story is tried again on the next tick.
        now[0] += dt.timedelta(seconds=31)
        poster.fail = PostFailed("HTTP 503")
        assert (await service.announcer.deliver(poster)).posted == []
        poster.fail = None
        assert (await service.announcer.deliver(poster)).posted == [(7, urls[2])]
        assert (await service.announcer.deliver(poster)).posted == []  # never twice

        # A refused post counts against the subscription, and the story waits.
        await state.announce([(urls[3], "new", "feed")])
        poster.fail = PostRefused("Missing Permissions (Discord error 50013)")
        now[0] += dt.timedelta(minutes=5)
        refused = await service.announcer.deliver(poster)
        sub = await service.subscriptions.get(7)
        assert refused.refused and sub is not None and sub.failures == 1 and sub.notice_pending
        assert [s.channel_id for s in await service.notices_for(1)] == [7]
        poster.fail = None
        assert (await service.announcer.deliver(poster)).posted == [(7, urls[3])]
        subscription = await service.subscriptions.get(7)
        assert subscription is not None and subscription.failures == 0
    finally:
        await service.close()


def test_keywords_match_whole_words_in_any_case() -> None:
    text = "Major labels sued the Quillsong AI song generator; a copyright fight over music."
    assert keyword_match("music", text) and keyword_match("Copyright  fight", text)
    assert keyword_match("football, quillsong", text)
    assert not keyword_match("song generators", text) and not keyword_match("label", text)


def _story(**changes: Any) -> Story:
    base: dict[str, Any] = {
        "url": "https://news.example/a", "title": "A title", "outlet": "Outlet",
        "published": "2025-11-04", "lede": "First sentence.", "text": "First sentence.",
        "article_id": 1, "urls": {"https://news.example/a"}}
    base.update(changes)
    return Story(**base)


def test_a_posted_story_stays_within_discords_limits_and_marks_updates() -> None:
    hostile = "@everyone <@123> **bold** [x](https://evil.example) discord.gg/x " * 60
    story = _story(title=hostile, lede=hostile, outlet=hostile[:300],
                   also=[(f"Copy {i} @here", f"https://copy{i}.example/s") for i in range(6)])
    text = feedrender.announcement_text(story, "updated")
    assert len(text) <= 2000 and text.startswith("🔄 **Updated:** **[")
    assert "](https://news.example/a)**" in text and "> “" in text
    assert "and 3 more" in text
    assert_inert(text)
    plain = feedrender.announcement_text(_story(), "new")
    assert plain == ("📰 **[A title](https://news.example/a)**\n> “First sentence.”\n"
                     "Outlet · 4 Nov 2025")


def _feed(i: int, **changes: Any) -> FeedRow:
    base: dict[str, Any] = {
        "url": f"https://feeds.example/{i}/" + "x" * 200, "title": f"Feed {i} @everyone " * 20,
        "interval_s": 1800, "keywords": [], "enabled": i % 3 != 0,
        "disabled_reason": "http_500" if i % 3 == 0 else None, "origin": "config",
        "etag": None, "last_modified": None, "body_hash": None,
        "last_fetch": "2025-11-03T12:00:00+00:00", "last_success": None, "last_status": "ok",
        "last_new_item": None, "consecutive_failures": 5 if i % 3 == 0 else i % 2,
        "next_fetch": None, "baseline_done": True, "articles": i}
    base.update(changes)
    return FeedRow(**base)


def test_feed_health_fits_in_one_embed_however_many_feeds() -> None:
    feeds = [_feed(i) for i in range(60)]
    listing = feedrender.feeds_embed(feeds)
    assert render.embed_problems(listing) == [] and "more" in (listing.footer.text or "")
    assert "⛔ disabled: http\\_500 after 5 failures in a row" in (listing.fields[0].value or "")
    for field in listing.fields:
        assert_inert(field.name or "")
    from bot.service import SourcesReport

    report = SourcesReport(outlets=[(f"Outlet {i}", i) for i in range(1000)], articles=5000,
                           configured=["x"], using_sample=False, feeds=feeds)
    sources = render.sources_embed(report)
    assert render.embed_problems(sources) == [] and len(sources.fields) >= 5
    assert "/feeds list" in (sources.footer.text or "")
