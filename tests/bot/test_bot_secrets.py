"""The token's secrecy under errors (issue 7): with a known token, provoke failures (a
refused command, unsearchable and hostile input, a search on a broken snapshot, gateway
reconnects, a login with a wrong token) and grep everything the bot logged, printed and
sent to Discord, its /status output and the reprs of its settings: the token never shows."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import pytest
from docket_harness import EPHEMERAL, JAPAN, start_serving
from fakediscord import FakeDiscord

from bot.__main__ import EXIT_CONFIG, EXIT_OK
from bot.settings import load_bot_settings
from index.embed import Encoder

pytestmark = pytest.mark.asyncio(loop_scope="function")

TOKEN = "MTQ1.leak-canary.Qx7_d0cket-fake-token-0123456789"


def sent_to_discord(fake: FakeDiscord) -> str:
    """Every request body the bot sent (messages, callbacks, edits, syncs) and every
    message the fake stored, as one string."""
    records = [{"messages": r.messages, "callbacks": r.callbacks}
               for r in fake.interactions.values()]
    return json.dumps([fake.requests, list(fake.world.messages.values()), records], default=str)


async def test_errors_reconnects_and_status_never_show_the_token(
        encoder: Encoder, sample_copy: Path, tmp_path: Path,
        caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> None:
    caplog.set_level(logging.DEBUG)  # discord.py's and aiohttp's debug lines too
    async with FakeDiscord(token=TOKEN) as fake:
        bot, task = await start_serving(fake, encoder, sample_copy, tmp_path / "state", TOKEN)
        await asyncio.wait_for(bot.wait_until_ready(), 15)

        answer = await fake.dispatch_slash("ask", {"question": JAPAN})
        assert (await answer.wait_for_reply(timeout=15))["embeds"]
        # A maintenance command refused to an ordinary member (Discord's gate lifted).
        refused = await fake.dispatch_slash("reindex", user=fake.member, bypass_permission_gate=True)
        assert (await refused.wait_for_reply(timeout=10))["flags"] & EPHEMERAL
        # Input the index cannot search, and a hostile mention.
        unsearchable = await fake.dispatch_slash("ask", {"question": "?!?! ..."})
        await unsearchable.wait_for(lambda m: m["_kind"] == "followup", timeout=15)
        hostile = await fake.dispatch_message(f"{fake.bot_user.mention} @everyone ```{{token}}```")
        await fake.wait_for_channel_message(
            fake.general, lambda m: (m.get("referenced_message") or {}).get("id") == hostile["id"],
            timeout=15)
        # Reconnects: RESUME carries the token to Discord, and nowhere else.
        await fake.request_reconnect()
        await fake.drop_connection()
        assert fake.gateway.resume_count == 2
        assert all(p.get("token") == TOKEN for p in fake.gateway.resume_payloads)

        status = await (await fake.dispatch_slash("status")).wait_for_reply(timeout=15)
        status_text = json.dumps(status)
        assert "Snapshot" in status_text

        # The live snapshot breaks under the bot (its database connection is gone): the
        # search fails, the user gets an apology and the log a traceback.
        await bot.service.index.snapshot.store.db.close()
        broken = await fake.dispatch_slash("ask", {"question": JAPAN}, user=fake.admin)
        apology = await broken.wait_for_reply(timeout=15)
        assert apology["flags"] & EPHEMERAL and "went wrong" in apology["content"]
        assert "Traceback" in caplog.text

        await bot.close()
        assert await asyncio.wait_for(task, 10) == EXIT_OK
        shown = sent_to_discord(fake)
        fake.assert_clean()

    out = capsys.readouterr()
    logged = caplog.text + "\n".join(
        f"{r.getMessage()} {r.exc_text or ''} {r.args!r}" for r in caplog.records)
    assert "logging in using static token" in logged  # the log was captured at all
    for where, text in (("log", logged), ("stdout", out.out), ("stderr", out.err),
                        ("sent to Discord", shown), ("/status", status_text),
                        ("bot config", f"{bot.config!r} {bot.config} {bot.config.token!r}"),
                        ("index settings", f"{bot.settings!r}")):
        assert TOKEN not in text, f"the token appears in the {where}"
        assert TOKEN.split(".")[1] not in text, f"part of the token appears in the {where}"


async def test_a_wrong_token_is_refused_without_showing_it(
        encoder: Encoder, sample_index: Path, tmp_path: Path,
        caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> None:
    caplog.set_level(logging.DEBUG)
    async with FakeDiscord(token="the-right-token") as fake:
        bot, task = await start_serving(fake, encoder, sample_index, tmp_path, TOKEN)
        assert await asyncio.wait_for(task, 15) == EXIT_CONFIG
        assert [r.get("status") for r in fake.requests] == [401]  # the fake refused the login
        shown = sent_to_discord(fake)
    out = capsys.readouterr()
    assert "Discord rejected DISCORD_TOKEN" in out.err
    # Settings loaded from the environment, as `python -m bot` does.
    loaded = load_bot_settings(environ={"DISCORD_TOKEN": TOKEN})
    assert loaded.token is not None and loaded.token.get_secret_value() == TOKEN
    for where, text in (("log", caplog.text), ("stdout", out.out), ("stderr", out.err),
                        ("sent to Discord", shown),
                        ("settings", f"{loaded!r} {loaded} {bot.config!r}")):
        assert TOKEN not in text, f"the token appears in the {where}"
