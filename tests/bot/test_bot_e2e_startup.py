"""The production start-up path (`serve`, as `python -m bot` runs it) and the token's secrecy."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from pathlib import Path

import pytest
from docket_harness import JAPAN, start_serving
from fakediscord import FakeDiscord

from bot.__main__ import EXIT_CONFIG, EXIT_OK
from index.embed import Encoder

pytestmark = pytest.mark.asyncio(loop_scope="function")

SECRET = "MTEx.never-log-me.Zz9_secret-token-value"


async def test_serve_logs_in_answers_and_never_shows_the_token(
        encoder: Encoder, sample_index: Path, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with FakeDiscord(token=SECRET) as fake:
        before = time.perf_counter()
        bot, task = await start_serving(fake, encoder, sample_index, tmp_path, SECRET)
        await asyncio.wait_for(bot.wait_until_ready(), 15)
        # The start-up time it reports is measured, within what this test saw go by.
        assert bot.ready_seconds is not None
        assert 0 < bot.ready_seconds <= time.perf_counter() - before
        ready_in = f"ready in {bot.ready_seconds:.1f}s"
        for name, options in (("ask", {"question": JAPAN}), ("status", {}), ("sources", {})):
            rec = await fake.dispatch_slash(name, options)
            await rec.wait_for_reply(timeout=15)
        await bot.close()
        assert await asyncio.wait_for(task, 10) == EXIT_OK
        shown = json.dumps(list(fake.world.messages.values()), default=str)
        fake.assert_clean()
    assert ready_in in caplog.text
    assert SECRET not in caplog.text
    assert SECRET not in shown
    assert SECRET not in repr(bot.config) and SECRET not in str(bot.config)


async def test_a_rejected_token_is_one_clear_line(encoder: Encoder, sample_index: Path,
                                                 tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    async with FakeDiscord(token="the-right-token") as fake:
        _, task = await start_serving(fake, encoder, sample_index, tmp_path, SECRET)
        assert await asyncio.wait_for(task, 15) == EXIT_CONFIG
    err = capsys.readouterr().err
    assert "Discord rejected DISCORD_TOKEN" in err and SECRET not in err
