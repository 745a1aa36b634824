"""The bot's feed listing (/sources, /feeds list): the configured feeds from the start, each
feed in one state, worded as `python -m index sources` words it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot import render
from bot.feeds import FeedDesk
from bot.settings import BotSettings
from index.embed import Encoder
from index.feeds.state import STATE_FILE, FeedRow
from index.settings import load_settings

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.asyncio
async def test_the_bot_lists_configured_feeds_before_any_poll(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, encoder: Encoder) -> None:
    feeds = tmp_path / "feeds.toml"
    feeds.write_text('[[feed]]\nurl = "https://feeds.example/a.xml"\nname = "Feed A"\n',
                     encoding="utf-8")
    monkeypatch.setenv("DOCKET_FEEDS", str(feeds))
    settings = load_settings(config=REPO / "config" / "settings.toml",
                             data_dir=tmp_path / "data", environ={})
    desk = FeedDesk(settings, BotSettings(poll_feeds=False), encoder)
    try:
        [row] = await desk.feeds()
    finally:
        await desk.close()
    assert (row.url, row.title, row.health) == ("https://feeds.example/a.xml", "Feed A",
                                                "never fetched")
    name, value = render.feed_health(row)
    assert name == "Feed A" and value.startswith("⏳ never fetched")
    assert not (settings.data_dir / STATE_FILE).exists()


def _row(**changes: Any) -> FeedRow:
    row = FeedRow.unfetched("https://feeds.example/a.xml", title="Feed A", interval_s=1800,
                            keywords=[])
    for key, value in changes.items():
        setattr(row, key, value)
    return row


@pytest.mark.parametrize(("changes", "health", "words", "emoji"), [
    ({}, "never fetched", "never fetched", "⏳ never fetched"),
    ({"last_fetch": "2025-11-03T12:00:00+00:00", "last_status": "ok"}, "ok", "ok", "✅ ok"),
    ({"last_fetch": "2025-11-03T12:00:00+00:00", "last_status": "http_404",
      "consecutive_failures": 1}, "failing",
     "failing: 1 failure in a row (http_404); backing off", "⚠️ failing: 1 failure in a row"),
    ({"last_fetch": "2025-11-03T12:00:00+00:00", "last_status": "http_500", "enabled": False,
      "disabled_reason": "http_500", "consecutive_failures": 5}, "disabled",
     "disabled: http_500 after 5 failures in a row", "⛔ disabled: http\\_500 after 5 failures"),
], ids=["never fetched", "ok", "failing", "disabled"])
def test_each_feed_is_in_one_state_worded_alike_everywhere(changes: dict[str, Any], health: str,
                                                            words: str, emoji: str) -> None:
    row = _row(**changes)
    assert (row.health, row.health_text()) == (health, words)
    _, value = render.feed_health(row)
    first = value.splitlines()[0]
    assert first.startswith(emoji), first
    assert not ("ok" in first and "in a row" in first)
