"""`python -m bot` stops when asked: SIGTERM (what hosting platforms send) and SIGINT (Ctrl-C)
close the gateway, let an answer in flight finish, stop a feed poll or a reindex that is
waiting on the network, close every database and thread, and exit 0.

The bot runs as a real child process against the fake Discord (tests/fakediscord), pointed
at it by tests/bot/to_fake_discord/sitecustomize.py. Each test waits on the process with a
generous timeout; how fast it stops (within 5 s) is not what these tests time.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from docket_harness import CONFIG, JAPAN, REPO
from fakediscord import FakeDiscord

from index.snapshot import current_name

pytestmark = pytest.mark.asyncio(loop_scope="function")

SITE = Path(__file__).resolve().parent / "to_fake_discord"
EXIT_WITHIN_S = 60  # generous: a stuck process fails the test, a slow machine does not


class HeldFollowups(FakeDiscord):
    """A fake Discord that holds every interaction followup (the answer after "thinking…")
    until `release` is set, so a test can stop the bot while an answer is on its way."""

    def __init__(self, **options: Any) -> None:
        self.followup_arrived = asyncio.Event()
        self.release = asyncio.Event()
        super().__init__(**options)

    async def _followup(self, req: Any) -> Any:
        self.followup_arrived.set()
        await self.release.wait()
        return await super()._followup(req)


class BotProcess:
    """`python -m bot` in a child process; its stderr lines are collected as they come."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.lines: list[str] = []
        self._changed = asyncio.Condition()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.proc.stderr is not None
        async for raw in self.proc.stderr:
            async with self._changed:
                self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
                self._changed.notify_all()
        async with self._changed:
            self._changed.notify_all()

    @property
    def log(self) -> str:
        return "\n".join(self.lines)

    async def wait_for_line(self, pattern: str) -> str:
        """The first stderr line matching `pattern` (fails if the process ends first)."""
        regex = re.compile(pattern)

        def found() -> str | None:
            return next((line for line in self.lines if regex.search(line)), None)

        async with self._changed:
            await asyncio.wait_for(
                self._changed.wait_for(lambda: found() is not None or self._reader.done()),
                EXIT_WITHIN_S)
        line = found()
        assert line is not None, f"the bot ended without logging {pattern!r}:\n{self.log}"
        return line

    async def stop(self, signum: int) -> int:
        """Send the signal and wait for the process to end; its exit status."""
        self.proc.send_signal(signum)
        return await self.wait(signal.Signals(signum).name)

    async def wait(self, after: str = "the signal") -> int:
        """Wait for the process to end; its exit status."""
        try:
            code = await asyncio.wait_for(self.proc.wait(), EXIT_WITHIN_S)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
            raise AssertionError(f"still running {EXIT_WITHIN_S}s after {after}:\n"
                                 f"{self.log}") from None
        await self._reader
        return code


@contextlib.asynccontextmanager
async def bot_process(fake: FakeDiscord, data_dir: Path, cwd: Path,
                      **env: str) -> AsyncIterator[BotProcess]:
    """`python -m bot` logged in to `fake` and ready (commands synced, guild received)."""
    feeds = cwd / "no-feeds.toml"
    feeds.write_text("", encoding="utf-8")
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "DOCKET"))}
    base.update({"PYTHONPATH": f"{SITE}{os.pathsep}{REPO}", "DOCKET_TEST_FAKE_DISCORD": fake.base_url,
                 "DISCORD_TOKEN": fake.token, "DISCORD_GUILD_ID": str(fake.guild_id),
                 "DOCKET_CONFIG": str(CONFIG), "DOCKET_DATA_DIR": str(data_dir),
                 "DOCKET_FEEDS": str(feeds), "DOCKET__BOT__GUILD_READY_TIMEOUT_S": "0.1",
                 "DOCKET__BOT__POLL_FEEDS": "false", "DOCKET_LOG_LEVEL": "INFO"})
    base.update(env)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=cwd, env=base, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    bot = BotProcess(proc)
    try:
        await bot.wait_for_line(r"ready in [\d.]+s as ")
        yield bot
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


@contextlib.asynccontextmanager
async def stalled_feed() -> AsyncIterator[tuple[str, asyncio.Event]]:
    """An RSS URL on 127.0.0.1 that never answers (until the block ends), and an event set
    when the first request for it arrives."""
    arrived = asyncio.Event()
    done = asyncio.Event()

    async def feed(_request: web.Request) -> web.Response:
        arrived.set()
        await done.wait()
        return web.Response(text="<rss version='2.0'><channel><title>x</title></channel></rss>",
                            content_type="application/rss+xml")

    app = web.Application()
    app.router.add_get("/feed.xml", feed)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}/feed.xml", arrived
    finally:
        done.set()
        await runner.cleanup()


def feed_env(tmp_path: Path, url: str) -> dict[str, str]:
    """Settings under which the bot fetches `url` (127.0.0.1 allowed) and would wait on it
    for ten minutes: a stop that waits for the fetch cannot pass."""
    feeds = tmp_path / "feeds.toml"
    feeds.write_text(f'[[feed]]\nurl = "{url}"\ninterval_minutes = 1\n', encoding="utf-8")
    return {"DOCKET_FEEDS": str(feeds), "DOCKET__FETCH__ALLOW_PRIVATE": "127.0.0.1",
            "DOCKET__FETCH__TIMEOUT_S": "600", "DOCKET__FETCH__PER_HOST_DELAY_S": "0"}


def assert_stopped_cleanly(bot: BotProcess, code: int) -> None:
    assert code == 0, f"exit status {code}:\n{bot.log}"
    assert "Traceback" not in bot.log, bot.log
    assert "stopped" in bot.lines[-1], bot.log


async def test_sigint_after_answering_exits_0(sample_copy: Path, tmp_path: Path) -> None:
    async with FakeDiscord() as fake, bot_process(fake, sample_copy, tmp_path) as bot:
        rec = await fake.dispatch_slash("ask", {"question": JAPAN})
        reply = await rec.wait_for_reply(timeout=30)
        assert "Japan" in reply["embeds"][0]["description"]
        code = await bot.stop(signal.SIGINT)
        fake.assert_clean()
    assert_stopped_cleanly(bot, code)


async def test_sigterm_lets_an_answer_in_flight_finish(sample_copy: Path, tmp_path: Path) -> None:
    fake = HeldFollowups()
    async with fake, bot_process(fake, sample_copy, tmp_path) as bot:
        rec = await fake.dispatch_slash("ask", {"question": JAPAN})
        await asyncio.wait_for(fake.followup_arrived.wait(), EXIT_WITHIN_S)
        bot.proc.send_signal(signal.SIGTERM)
        await bot.wait_for_line(r"SIGTERM: stopping")
        fake.release.set()  # the answer reaches Discord only now, during the shutdown
        reply = await rec.wait_for_reply(timeout=30)
        code = await bot.wait()
        fake.assert_clean()
    assert "Japan" in reply["embeds"][0]["description"]
    assert_stopped_cleanly(bot, code)


async def test_sigterm_during_a_feed_poll_waiting_on_the_network_exits_0(
        sample_copy: Path, tmp_path: Path) -> None:
    live = current_name(sample_copy)
    async with stalled_feed() as (url, arrived), FakeDiscord() as fake, \
            bot_process(fake, sample_copy, tmp_path, **feed_env(tmp_path, url),
                        DOCKET__BOT__POLL_FEEDS="true") as bot:
        await asyncio.wait_for(arrived.wait(), EXIT_WITHIN_S)  # the first poll is fetching
        code = await bot.stop(signal.SIGTERM)
        fake.assert_clean()
    assert_stopped_cleanly(bot, code)
    assert current_name(sample_copy) == live


async def test_sigterm_during_a_reindex_waiting_on_the_network_exits_0(
        sample_copy: Path, tmp_path: Path) -> None:
    live = current_name(sample_copy)
    async with stalled_feed() as (url, arrived), FakeDiscord() as fake, \
            bot_process(fake, sample_copy, tmp_path, **feed_env(tmp_path, url)) as bot:
        rec = await fake.dispatch_slash("reindex", user=fake.owner, bypass_permission_gate=True)
        started = await rec.wait_for_reply(timeout=30)
        assert "reindex started" in started["content"]
        await asyncio.wait_for(arrived.wait(), EXIT_WITHIN_S)  # the reindex is fetching
        code = await bot.stop(signal.SIGTERM)
    assert_stopped_cleanly(bot, code)
    assert "during a reindex" in bot.log
    # The abandoned build never replaced the live snapshot, and left nothing behind.
    assert current_name(sample_copy) == live
    assert not [p for p in (sample_copy / "snapshots").iterdir() if p.name.startswith(".")]
