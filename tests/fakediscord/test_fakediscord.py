"""Self-test: a tiny real discord.py bot driven through FakeDiscord."""

from __future__ import annotations

import asyncio
import contextlib
import json
import zlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import discord
import pytest
from discord import app_commands
from discord.ext import commands

from . import FakeDiscord, InteractionRefused

pytestmark = pytest.mark.asyncio(loop_scope="function")


class TinyBot(commands.Bot):
    """Defined here, in the test: a few slash commands and a mention handler."""

    def __init__(self, guild_id: int) -> None:
        intents = discord.Intents.default()
        intents.message_content = True
        intents.members = True
        # guild_ready_timeout: on_ready fires this long after the last GUILD_CREATE (default 2 s).
        super().__init__(command_prefix="!", intents=intents, guild_ready_timeout=0.1)
        self.guild_id = guild_id
        self.own_messages: list[discord.Message] = []
        self.user_messages: list[discord.Message] = []
        self.errors: list[Exception] = []
        self.resumed_count = 0
        self.ready_count = 0
        self.views_sent = 0  # the view is registered once send_message has returned

    async def setup_hook(self) -> None:
        guild = discord.Object(self.guild_id)
        bot = self

        @app_commands.command(description="Replies at once")
        async def ping(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("pong")

        @app_commands.command(description="Defers, then follows up")
        @app_commands.describe(who="Someone to greet")
        async def slowgreet(interaction: discord.Interaction, who: discord.Member) -> None:
            await interaction.response.defer(thinking=True)
            await asyncio.sleep(0.05)
            await interaction.followup.send(f"hello {who.display_name}")
            await interaction.followup.send("and a second followup")

        @app_commands.command(description="Sleeps past the 3 s window")
        async def sleepy(interaction: discord.Interaction) -> None:
            await asyncio.sleep(3.5)
            try:
                await interaction.response.send_message("too late")
            except discord.NotFound as exc:
                bot.errors.append(exc)

        @app_commands.command(description="Breaks the 2000-char limit")
        async def toolong(interaction: discord.Interaction) -> None:
            try:
                await interaction.response.send_message("x" * 2001)
            except discord.HTTPException as exc:
                bot.errors.append(exc)
                await interaction.response.send_message("sorry, too long")

        @app_commands.command(description="Echoes text back")
        async def echo(interaction: discord.Interaction, text: str) -> None:
            await interaction.response.send_message(
                text, allowed_mentions=discord.AllowedMentions.none()
            )

        @app_commands.command(description="Managers only")
        @app_commands.default_permissions(manage_guild=True)
        async def manage(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("managed", ephemeral=True)

        class ClickButton(discord.ui.Button[discord.ui.View]):
            async def callback(self, interaction: discord.Interaction) -> None:
                await interaction.response.edit_message(content="clicked!", view=None)

        @app_commands.command(description="A button")
        async def button(interaction: discord.Interaction) -> None:
            view = discord.ui.View(timeout=30)
            view.add_item(ClickButton(label="Click", custom_id="tiny:click"))
            await interaction.response.send_message("press it", view=view)
            bot.views_sent += 1

        @app_commands.command(description="Autocompletes a fruit")
        async def fruit(interaction: discord.Interaction, name: str) -> None:
            await interaction.response.send_message(f"fruit: {name}")

        @fruit.autocomplete("name")
        async def fruit_ac(
            interaction: discord.Interaction, current: str
        ) -> list[app_commands.Choice[str]]:
            fruits = ["apple", "apricot", "banana"]
            return [app_commands.Choice(name=f, value=f) for f in fruits if f.startswith(current)]

        all_commands: list[app_commands.Command[Any, ..., Any]] = [
            ping,
            slowgreet,
            sleepy,
            toolong,
            echo,
            manage,
            button,
            fruit,
        ]
        for cmd in all_commands:
            self.tree.add_command(cmd, guild=guild)
        await self.tree.sync(guild=guild)

    async def on_ready(self) -> None:
        self.ready_count += 1

    async def on_resumed(self) -> None:
        self.resumed_count += 1

    async def on_message(self, message: discord.Message) -> None:
        if message.author == self.user:
            self.own_messages.append(message)
            return
        self.user_messages.append(message)
        assert self.user is not None
        if self.user in message.mentions:
            # Echoing user text: must not ping anyone.
            await message.reply(
                f"you said: {message.content}", allowed_mentions=discord.AllowedMentions.none()
            )
        elif message.content.startswith("!shout "):
            await message.channel.send(message.content.removeprefix("!shout "))
        elif message.content == "!readonly":
            guild = message.guild
            assert guild is not None
            channel = discord.utils.get(guild.text_channels, name="announcements")
            assert channel is not None
            try:
                await channel.send("can I post here?")
            except discord.Forbidden as exc:
                self.errors.append(exc)
        elif message.content == "!bigembed":
            try:
                await message.channel.send(embed=discord.Embed(title="t" * 257))
            except discord.HTTPException as exc:
                self.errors.append(exc)


@contextlib.asynccontextmanager
async def tiny_bot() -> AsyncIterator[tuple[FakeDiscord, TinyBot]]:
    async with FakeDiscord() as fake:
        bot = TinyBot(fake.guild_id)
        async with fake.running(bot):
            yield fake, bot


async def test_login_ready_and_command_sync() -> None:
    async with tiny_bot() as (fake, bot):
        assert bot.user is not None and bot.user.id == fake.bot_user.id
        assert bot.application_id == fake.application_id
        assert fake.gateway.identify_count == 1 and fake.gateway.resume_count == 0
        assert fake.gateway.connections[0].compress == "zlib-stream"
        guild = bot.get_guild(fake.guild_id)
        assert guild is not None
        assert {c.name for c in guild.text_channels} >= {"general", "announcements"}
        assert guild.get_member(fake.admin.id) is not None  # members intent: full member list
        assert await bot.is_owner(discord.Object(fake.owner.id))  # type: ignore[arg-type]
        assert fake.sync_count(fake.guild_id) == 1
        assert fake.sync_count(None) == 0
        names = {c["name"] for c in fake.commands(fake.guild_id)}
        assert {"ping", "slowgreet", "sleepy", "manage"} <= names
        assert all(c["guild_id"] == str(fake.guild_id) for c in fake.commands(fake.guild_id))
        paths = [(r["method"], r["path"]) for r in fake.requests]
        assert ("GET", "/api/v10/users/@me") in paths
        assert ("GET", "/api/v10/oauth2/applications/@me") in paths
        with pytest.raises(LookupError):
            await fake.dispatch_slash("never-synced")
        fake.assert_clean()
    # The patch is undone on exit.
    assert discord.http.Route.BASE == "https://discord.com/api/v10"


async def test_slash_round_trips() -> None:
    async with tiny_bot() as (fake, bot):
        rec = await fake.dispatch_slash("ping", user=fake.member)
        reply = await rec.wait_for_reply(timeout=5)
        assert reply["content"] == "pong"
        assert rec.callback_type == 4 and rec.acknowledged
        # Within Discord's own window (the fake enforces it, and times it by arrival).
        assert rec.ack_latency is not None and 0 < rec.ack_latency < fake.ack_window == 3.0

        rec = await fake.dispatch_slash("slowgreet", {"who": fake.admin}, channel=fake.bot_commands)
        first = await rec.wait_for_reply()
        assert first["content"] == "hello Alice (admin)"
        assert first["_kind"] == "followup"
        await rec.wait_for(lambda m: m["content"] == "and a second followup")
        assert rec.callback_type == 5
        kinds = [m["_kind"] for m in rec.messages]
        assert kinds == ["deferred", "followup", "followup"]
        # The first followup replaced the "thinking" message; the second is a new one.
        assert rec.messages[0]["id"] == rec.messages[1]["id"] != rec.messages[2]["id"]

        # Every non-ephemeral message the bot made came back over the gateway.
        await fake.wait_until(lambda: len(bot.own_messages) >= 3)
        assert "pong" in [m.content for m in bot.own_messages]
        fake.assert_clean()


async def test_mentions_and_own_message_echo() -> None:
    async with tiny_bot() as (fake, bot):
        sent = await fake.dispatch_message(
            f"{fake.bot_user.mention} ping @everyone and {fake.admin.mention}",
            author=fake.member,
        )
        # The user's own message pinged everyone (members may mention @everyone by default).
        assert "everyone" in sent["pinged"] and fake.admin.id in sent["pinged"]
        reply = await fake.wait_for_channel_message(fake.general)
        assert reply["content"].startswith("you said:")
        assert "@everyone" in reply["content"]
        assert reply["pinged"] == []  # allowed_mentions=none: no ping, not even the replied user
        assert reply["mention_everyone"] is False
        assert reply["referenced_message"]["id"] == sent["id"]
        # The bot received its own reply over the gateway, as on Discord.
        await fake.wait_until(lambda: any(m.id == int(reply["id"]) for m in bot.own_messages))

        # Without allowed_mentions, a plain channel.send of the same text pings everyone.
        await fake.dispatch_message("!shout hey @everyone", author=fake.member)
        shout = await fake.wait_for_channel_message(
            fake.general, lambda m: m["content"] == "hey @everyone"
        )
        assert shout["pinged"] == ["everyone"]

        # Slash echo with AllowedMentions.none()
        rec = await fake.dispatch_slash("echo", {"text": f"@everyone {fake.manager.mention}"})
        echoed = await rec.wait_for_reply()
        assert echoed["pinged"] == [] and echoed["mentions"] == []
        fake.assert_clean()


async def test_ack_window_violation() -> None:
    async with tiny_bot() as (fake, bot):
        rec = await fake.dispatch_slash("sleepy")
        await fake.wait_until(lambda: bot.errors, timeout=6)
        err = bot.errors[0]
        assert isinstance(err, discord.NotFound) and err.code == 10062
        assert not rec.acknowledged and rec.ack_latency is not None and rec.ack_latency > 3.0
        assert rec.errors[0]["code"] == 10062
        # However late the loop let it through, the violation names the measured delay.
        assert len(fake.violations) == 1
        assert f"callback type 4 after {rec.ack_latency:.2f}s (limit 3.0s)" in fake.violations[0]


async def test_a_callback_is_timed_by_its_arrival_not_by_when_the_fake_handles_it() -> None:
    """The fake shares the bot's event loop; a busy loop must not make a prompt callback late."""
    async with FakeDiscord(ack_window=0.5) as fake:
        bot = TinyBot(fake.guild_id)
        async with fake.running(bot):
            fake.relay.hold()  # requests are stamped on arrival, then held back
            try:
                before = len(fake.relay.arrivals)
                rec = await fake.dispatch_slash("ping")
                await fake.wait_until(lambda: any(
                    f"/interactions/{rec.id}/" in line for _, line in fake.relay.arrivals[before:]))
                seen_at = asyncio.get_running_loop().time()
                assert not rec.callbacks  # not handled yet
                await asyncio.sleep(fake.ack_window)  # the window passes while it is held
            finally:
                fake.relay.release()
            reply = await rec.wait_for_reply()
            handled_late = asyncio.get_running_loop().time() - rec.dispatched_at
        assert reply["content"] == "pong" and rec.acknowledged and rec.callback_type == 4
        assert handled_late > fake.ack_window  # the fake's handler ran after the window...
        assert rec.ack_latency is not None and rec.dispatched_at + rec.ack_latency <= seen_at
        fake.assert_clean()  # ...but the callback had arrived in time: no violation


async def test_limits_permissions_and_double_ack() -> None:
    async with tiny_bot() as (fake, bot):
        rec = await fake.dispatch_slash("toolong")
        reply = await rec.wait_for_reply()
        assert reply["content"] == "sorry, too long"
        err = bot.errors.pop()
        assert isinstance(err, discord.HTTPException) and err.code == 50035
        assert "data.content" in err.text
        assert any("2000 or fewer" in v for v in fake.violations)

        await fake.dispatch_message("!bigembed")
        await fake.wait_until(lambda: bot.errors)
        err = bot.errors.pop()
        assert isinstance(err, discord.HTTPException) and err.code == 50035
        assert "embeds.0.title" in err.text

        await fake.dispatch_message("!readonly")
        await fake.wait_until(lambda: bot.errors)
        err = bot.errors.pop()
        assert isinstance(err, discord.Forbidden) and err.code == 50013
        assert fake.channel_messages(fake.read_only) == []

        # A second callback for the same interaction: 40060.
        url = f"{fake.api_base}/interactions/{rec.id}/{rec.token}/callback"
        async with aiohttp.ClientSession() as session:
            async with session.post(url, json={"type": 4, "data": {"content": "again"}}) as resp:
                body = await resp.json()
                assert resp.status == 400 and body["code"] == 40060
        assert len(fake.violations) == 4
        assert fake.unknown_routes == []


async def test_permission_gate_and_components() -> None:
    async with tiny_bot() as (fake, bot):
        refused = await fake.dispatch_slash("manage", user=fake.member)
        assert refused.refused and "default_member_permissions" in (refused.refusal_reason or "")
        with pytest.raises(InteractionRefused):
            await refused.wait_for_reply()
        # The admin role is a bot-level role without Discord permissions: hidden too.
        assert (await fake.dispatch_slash("manage", user=fake.admin)).refused
        ok = await fake.dispatch_slash("manage", user=fake.manager)
        assert (await ok.wait_for_reply())["flags"] & 64  # ephemeral
        bypass = await fake.dispatch_slash("manage", user=fake.member, bypass_permission_gate=True)
        assert (await bypass.wait_for_reply())["content"] == "managed"

        rec = await fake.dispatch_slash("button")
        msg = await rec.wait_for_reply()
        # The fake stores the message before its answer reaches the bot, which only then
        # listens for the button: a user cannot click before the message is shown either.
        await fake.wait_until(lambda: bot.views_sent == 1)
        click = await fake.dispatch_component(msg, "tiny:click", user=fake.member)
        updated = await click.wait_for_reply()
        assert click.callback_type == 7
        assert updated["content"] == "clicked!" and updated["components"] == []
        assert fake.message(msg["id"])["content"] == "clicked!"

        ac = await fake.dispatch_autocomplete("fruit", {"name": "ap"}, focused="name")
        choices = await ac.wait_for_choices()
        assert [c["value"] for c in choices] == ["apple", "apricot"]
        fake.assert_clean()


async def test_reconnect_and_resume() -> None:
    async with tiny_bot() as (fake, bot):
        await fake.request_reconnect()  # op 7
        assert fake.gateway.resume_count == 1 and fake.gateway.identify_count == 1
        await fake.wait_until(lambda: bot.resumed_count == 1)

        # Drop the TCP connection; a message sent meanwhile is replayed on RESUME.
        await fake.drop_connection(wait=False)
        missed = await fake.dispatch_message("sent while the bot was away")
        await fake.wait_until(lambda: fake.gateway.resume_count == 2)
        await fake.wait_until(lambda: any(m.id == int(missed["id"]) for m in bot.user_messages))
        assert fake.gateway.identify_count == 1
        seqs = [e["s"] for e in fake.gateway.session.log] if fake.gateway.session else []
        assert seqs == list(range(1, len(seqs) + 1))

        # And the bot still works after both reconnects.
        rec = await fake.dispatch_slash("ping")
        assert (await rec.wait_for_reply())["content"] == "pong"
        assert bot.ready_count == 1
        fake.assert_clean()


async def test_raw_gateway_plain_text_and_zlib_resume() -> None:
    """The gateway protocol itself, without discord.py: text frames, then zlib-stream."""
    async with FakeDiscord() as fake, aiohttp.ClientSession() as session:
        async with session.ws_connect(f"{fake.gateway_url}?v=10&encoding=json") as ws:
            hello = await ws.receive_json(timeout=2)
            assert hello["op"] == 10 and hello["d"]["heartbeat_interval"] > 0
            await ws.send_json({"op": 1, "d": None})
            assert (await ws.receive_json(timeout=2))["op"] == 11
            identify = {"token": fake.token, "intents": 513, "properties": {}}
            await ws.send_json({"op": 2, "d": identify})
            ready = await ws.receive_json(timeout=2)
            guild = await ws.receive_json(timeout=2)
        assert (ready["t"], ready["s"], guild["t"], guild["s"]) == ("READY", 1, "GUILD_CREATE", 2)
        assert ready["d"]["resume_gateway_url"].startswith("ws://127.0.0.1:")
        roles = {r["name"] for r in guild["d"]["roles"]}
        assert {"@everyone", "Docket Admin", "Moderators"} <= roles
        # Without the members intent only the bot itself is listed.
        assert len(guild["d"]["members"]) == 1 and guild["d"]["member_count"] == 6

        # Missed while disconnected: replayed after RESUME, before RESUMED.
        await fake.dispatch_event("TYPING_START", {"channel_id": str(fake.general.id)})
        url = f"{fake.resume_gateway_url}?v=10&encoding=json&compress=zlib-stream"
        async with session.ws_connect(url) as ws:
            inflate = zlib.decompressobj()

            async def receive() -> dict[str, Any]:
                msg = await ws.receive(timeout=2)
                assert msg.type is aiohttp.WSMsgType.BINARY
                assert msg.data.endswith(b"\x00\x00\xff\xff")  # Z_SYNC_FLUSH
                data: dict[str, Any] = json.loads(inflate.decompress(msg.data))
                return data

            assert (await receive())["op"] == 10
            resume = {"token": fake.token, "session_id": ready["d"]["session_id"], "seq": 2}
            await ws.send_json({"op": 6, "d": resume})
            replayed, resumed = await receive(), await receive()
        assert (replayed["t"], replayed["s"]) == ("TYPING_START", 3)
        assert (resumed["t"], resumed["s"]) == ("RESUMED", 4)
        assert fake.gateway.identify_count == 1 and fake.gateway.resume_count == 1
