"""/latest, /sources, /status, /help and the error handler, end to end."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from docket_harness import (
    EPHEMERAL,
    JAPAN,
    public_bot_messages,
    published_manifest,
    published_outlets,
    running_docket,
    sample_article_count,
)

from bot.errors import UNEXPECTED
from index.embed import Encoder

pytestmark = pytest.mark.asyncio(loop_scope="function")


async def test_latest_lists_newest_first_with_topic_suggestions(encoder: Encoder, sample_index: Path,
                                                                tmp_path: Path) -> None:
    async with running_docket(encoder, sample_index, tmp_path) as d:
        rec = await d.fake.dispatch_slash("latest", {"count": 4})
        reply = await rec.wait_for_reply(timeout=15)
        assert rec.callback_type == 5
        embed = reply["embeds"][0]
        assert embed["title"] == "Latest developments"
        dates = [line.split("**")[1] for line in embed["description"].split("\n")
                 if line.startswith("**")]
        assert len(dates) == 4
        topical = await d.fake.dispatch_slash("latest", {"topic": "music", "days": 3650})
        embed = (await topical.wait_for_reply(timeout=15))["embeds"][0]
        assert embed["title"] == "Latest developments on “music”"
        assert "Udio" in embed["description"]
        ac = await d.fake.dispatch_autocomplete("latest", {"topic": "mus"}, focused="topic")
        assert [c["value"] for c in await ac.wait_for_choices()] == ["music"]
        d.fake.assert_clean()


async def test_sources_status_and_help(encoder: Encoder, sample_index: Path, tmp_path: Path) -> None:
    async with running_docket(encoder, sample_index, tmp_path) as d:
        sources = await (await d.fake.dispatch_slash("sources")).wait_for_reply(timeout=15)
        desc = sources["embeds"][0]["description"]
        # Expected counts from the corpus's files and the snapshot's own tables (it grows).
        articles, outlets = sample_article_count(), published_outlets(sample_index)
        assert sum(outlets.values()) == articles
        assert desc.startswith(f"{articles} articles from {len(outlets)} outlets, read from the "
                               "bundled sample corpus")
        assert f"**GamesRadar+** — {outlets['GamesRadar+']} articles" in desc

        await (await d.fake.dispatch_slash("ask", {"question": JAPAN})).wait_for_reply(timeout=15)
        status = await (await d.fake.dispatch_slash("status")).wait_for_reply(timeout=15)
        fields = {f["name"]: f["value"] for f in status["embeds"][0]["fields"]}
        passages = published_manifest(sample_index)["passages"]
        assert fields["Articles"] == f"{articles:,}" and fields["Passages"] == f"{passages:,}"
        assert fields["Snapshot"].startswith(f"`{d.service.index.snapshot.name}`")
        assert "(1 searches)" in fields["Search latency"]
        assert fields["Last ingest"].startswith(f"{articles} new")
        assert "Refused snapshot" not in fields

        help_ = await (await d.fake.dispatch_slash("help")).wait_for_reply()
        assert help_["flags"] & EPHEMERAL and help_["embeds"][0]["title"].startswith("Docket")
        d.fake.assert_clean()


async def test_an_unexpected_error_is_logged_and_answered_briefly(
        encoder: Encoder, sample_index: Path, tmp_path: Path,
        caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    async with running_docket(encoder, sample_index, tmp_path) as d:
        async def broken(*args: object, **kwargs: object) -> None:
            raise RuntimeError("internal detail /srv/secret/path")

        monkeypatch.setattr(d.service, "latest", broken)
        rec = await d.fake.dispatch_slash("latest")
        reply = await rec.wait_for(lambda m: m["_kind"] == "followup", timeout=15)
        assert reply["content"] == UNEXPECTED and reply["flags"] & EPHEMERAL
        assert public_bot_messages(d.fake, d.fake.general) == []
        assert "internal detail" in caplog.text and "Traceback" in caplog.text
        d.fake.assert_clean()


async def test_no_index_yet_then_the_first_snapshot_is_picked_up(
        encoder: Encoder, sample_index: Path, tmp_path: Path) -> None:
    data_dir = tmp_path / "empty"
    async with running_docket(encoder, data_dir, tmp_path / "state") as d:
        rec = await d.fake.dispatch_slash("ask", {"question": JAPAN})
        reply = await rec.wait_for(lambda m: m["_kind"] == "followup", timeout=15)
        assert reply["flags"] & EPHEMERAL and "isn't ready yet" in reply["content"]
        # An ingest elsewhere publishes; the reload loop finds it without a restart.
        shutil.copytree(sample_index / "snapshots", data_dir / "snapshots")
        shutil.copy(sample_index / "CURRENT", data_dir / "CURRENT")
        await d.fake.wait_until(lambda: d.service.index.ready, timeout=10)
        rec = await d.fake.dispatch_slash("ask", {"question": JAPAN})
        assert (await rec.wait_for_reply(timeout=15))["embeds"]
        d.fake.assert_clean()
