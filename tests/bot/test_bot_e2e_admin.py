"""Maintenance: who may /reindex and /sync, progress, the single-run lock, answers meanwhile."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest
from docket_harness import EPHEMERAL, JAPAN, running_docket, sample_subset
from fakediscord import InteractionRefused

from index.embed import Encoder

pytestmark = pytest.mark.asyncio(loop_scope="function")

REFUSAL = "Only the bot's owners and members with the admin role can do that."


@pytest.fixture(autouse=True)
def _no_feeds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Reindex reads only what a test configures, whatever config/feeds.toml holds."""
    feeds = tmp_path / "feeds.toml"
    feeds.write_text("", encoding="utf-8")
    monkeypatch.setenv("DOCKET_FEEDS", str(feeds))


async def test_reindex_is_refused_to_everyone_but_owners_and_the_admin_role(
        encoder: Encoder, sample_copy: Path, tmp_path: Path) -> None:
    sources = sample_subset(tmp_path / "few", 2)  # already indexed: nothing to embed
    async with running_docket(encoder, sample_copy, tmp_path / "state",
                              settings_changes={"sources": (str(sources),)}) as d:
        fake = d.fake
        commands = {c["name"]: c for c in fake.commands(fake.guild_id)}
        assert commands["reindex"]["default_member_permissions"] == str(1 << 5)  # Manage Server

        # Discord's own gate hides it from a member without Manage Server...
        hidden = await fake.dispatch_slash("reindex", user=fake.member)
        assert hidden.refused
        with pytest.raises(InteractionRefused):
            await hidden.wait_for_reply()
        # ...and when a server admin lifts that gate, the bot still refuses.
        for user in (fake.member, fake.manager):
            rec = await fake.dispatch_slash("reindex", user=user, bypass_permission_gate=True)
            reply = await rec.wait_for_reply()
            assert reply["content"] == REFUSAL and reply["flags"] & EPHEMERAL
        assert d.service.reindexer.current is None

        rec = await fake.dispatch_slash("reindex", user=fake.admin, bypass_permission_gate=True)
        first = await rec.wait_for_reply()
        assert first["content"].startswith("⏳ reindex started by Alice (admin)")
        await d.service.reindexer.wait()
        done = await rec.wait_for(lambda m: m["content"].startswith("✅"), timeout=15)
        assert "0 new, 0 updated, 2 unchanged" in done["content"]
        fake.assert_clean()


async def test_reindex_reports_progress_holds_the_lock_and_answers_keep_coming(
        encoder: Encoder, sample_copy: Path, tmp_path: Path) -> None:
    sources = sample_subset(tmp_path / "subset", 12)
    async with running_docket(encoder, sample_copy, tmp_path / "state",
                              settings_changes={"sources": (str(sources),)},
                              owner_ids=frozenset()) as d:
        fake = d.fake
        old = d.service.index.snapshot.name
        # Hold the run at its start (in the ingest's own thread) until the checks below are done.
        gate = threading.Event()
        real_ingest = d.service.reindexer.ingest_fn

        async def gated(*args: Any, **kwargs: Any) -> Any:
            await asyncio.to_thread(gate.wait, 30)
            return await real_ingest(*args, **kwargs)

        d.service.reindexer.ingest_fn = gated
        rec = await fake.dispatch_slash("reindex", {"full": True}, user=fake.admin,
                                        bypass_permission_gate=True)
        started = await rec.wait_for_reply()
        assert started["content"].startswith("⏳ full reindex started by Alice (admin)")
        run = d.service.reindexer.current
        assert run is not None and run.running

        second = await fake.dispatch_slash("reindex", user=fake.owner, bypass_permission_gate=True)
        busy = await second.wait_for_reply()
        assert busy["flags"] & EPHEMERAL
        assert "already running" in busy["content"] and "Alice (admin)" in busy["content"]

        question = await fake.dispatch_slash("ask", {"question": JAPAN}, user=fake.member)
        answer = await question.wait_for_reply(timeout=15)
        assert answer["embeds"] and question.ack_latency is not None and question.ack_latency < 3
        assert run.running and d.service.index.snapshot.name == old  # the old snapshot answers

        edit = await rec.wait_for(lambda m: m["_kind"] == "edit" and m["content"].startswith("⏳"),
                                  timeout=10)
        assert "s elapsed" in edit["content"]
        gate.set()
        final = await rec.wait_for(lambda m: m["content"].startswith("✅"), timeout=60)
        assert "articles: 12 new" in final["content"]
        assert f"Now answering from snapshot `{d.service.index.snapshot.name}`" in final["content"]
        assert d.service.index.snapshot.name != old
        status = await (await fake.dispatch_slash("status")).wait_for_reply(timeout=15)
        fields = {f["name"]: f["value"] for f in status["embeds"][0]["fields"]}
        assert fields["Articles"] == "12"
        fake.assert_clean()


async def test_commands_sync_once_per_change_and_owners_can_force(
        encoder: Encoder, sample_index: Path, tmp_path: Path) -> None:
    async with running_docket(encoder, sample_index, tmp_path) as d:
        fake = d.fake
        assert fake.sync_count(fake.guild_id) == 1 and fake.sync_count(None) == 0
        names = {c["name"] for c in fake.commands(fake.guild_id)}
        assert names == {"ask", "latest", "sources", "status", "help", "reindex", "sync",
                         "subscribe", "unsubscribe", "feeds", "case", "trends"}
        await fake.stop_bot(d.bot)
        async with running_docket(encoder, sample_index, tmp_path, fake=fake) as again:
            assert fake.sync_count() == 1  # same commands: nothing sent on restart
            refused = await fake.dispatch_slash("sync", user=fake.admin, bypass_permission_gate=True)
            assert (await refused.wait_for_reply())["content"] == "Only the bot's owners can do that."
            forced = await fake.dispatch_slash("sync", user=fake.owner, bypass_permission_gate=True)
            reply = await forced.wait_for_reply(timeout=10)
            assert reply["content"] == f"Synced 12 commands (guild {fake.guild_id})."
            assert fake.sync_count(fake.guild_id) == 2
            assert again.bot.maintainers.is_owner(fake.owner.id)  # the application's owner
        fake.assert_clean()


async def test_without_a_guild_id_commands_sync_globally(encoder: Encoder, sample_index: Path,
                                                         tmp_path: Path) -> None:
    async with running_docket(encoder, sample_index, tmp_path, guild=False) as d:
        assert d.fake.sync_count(None) == 1 and d.fake.sync_count(d.fake.guild_id) == 0
        rec = await d.fake.dispatch_slash("ask", {"question": JAPAN})
        assert (await rec.wait_for_reply(timeout=15))["embeds"]
        d.fake.assert_clean()
