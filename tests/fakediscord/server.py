"""``FakeDiscord``: a local Discord API (REST + gateway) for driving the real discord.py.

Usage (inside a pytest-asyncio test)::

    async with FakeDiscord() as fake:             # serves 127.0.0.1:<random>, patches discord.py
        bot = commands.Bot(command_prefix="!", intents=intents, guild_ready_timeout=0.1)
        async with fake.running(bot):              # login + connect + wait for on_ready
            rec = await fake.dispatch_slash("ping")
            reply = await rec.wait_for_reply()

``guild_ready_timeout``: discord.py waits that long (default 2 s) after the last
GUILD_CREATE before firing ``on_ready``; pass ``guild_ready_timeout=0.1`` to the
Client/Bot constructor to keep tests fast.

This module holds the constructor, the server's lifecycle (start/stop, patching
discord.py, running a bot) and the REST route table. REST requests reach the server
through ``relay.StampingRelay``, a thread that notes when each one arrived. The rest of ``FakeDiscord`` comes
from mixins, all built on ``base.FakeDiscordBase`` (the shared state and world
shortcuts):

- ``records.Records``: violations, problems, stored messages, waiting;
- ``payloads.GatewayPayloads``: READY and GUILD_CREATE;
- ``routing.Router``: matching requests to routes, auth, bodies, error responses;
- ``routes_users.UserRoutes``, ``routes_guild.GuildRoutes``,
  ``routes_commands.CommandRoutes``, ``routes_channels.ChannelRoutes``,
  ``routes_interactions.InteractionRoutes``: the REST handlers;
- ``messages.MessageStore``: creating, editing and deleting stored messages;
- ``dispatch.Dispatchers``: users' interactions (slash, autocomplete, components, modals);
- ``world_events.WorldEvents``: users' messages, new members and channels, raw events,
  gateway control.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING

from aiohttp import web

from .common import (
    INTENT_DIRECT_MESSAGES,
    INTENT_GUILD_MEMBERS,
    INTENT_GUILD_MESSAGES,
    INTENT_MESSAGE_CONTENT,
    INTERNAL_KEYS,
    MESSAGE_EDITABLE,
    NO_CONTENT,
    SENDABLE_FLAGS,
    CommandSync,
    Handler,
    NoContent,
    Req,
    wire,
)
from .dispatch import Dispatchers
from .gateway import Gateway
from .limits import ATTACHMENT_SIZE_LIMIT
from .messages import MessageStore
from .payloads import GatewayPayloads
from .records import Records
from .relay import StampingRelay
from .routes_channels import ChannelRoutes
from .routes_commands import CommandRoutes
from .routes_guild import GuildRoutes
from .routes_interactions import InteractionRoutes
from .routes_users import UserRoutes
from .routing import Router
from .state import Notifier, Snowflakes
from .world import World
from .world_events import WorldEvents

if TYPE_CHECKING:
    import discord

__all__ = [
    "INTENT_DIRECT_MESSAGES",
    "INTENT_GUILD_MEMBERS",
    "INTENT_GUILD_MESSAGES",
    "INTENT_MESSAGE_CONTENT",
    "INTERNAL_KEYS",
    "MESSAGE_EDITABLE",
    "NO_CONTENT",
    "SENDABLE_FLAGS",
    "CommandSync",
    "FakeDiscord",
    "Handler",
    "NoContent",
    "Req",
    "wire",
]


class FakeDiscord(
    Dispatchers,
    WorldEvents,
    InteractionRoutes,
    ChannelRoutes,
    CommandRoutes,
    MessageStore,
    GuildRoutes,
    UserRoutes,
    GatewayPayloads,
    Router,
    Records,
):
    """A fake Discord API on 127.0.0.1 (random port) for the real discord.py client.

    Records for assertions: ``violations`` (strings, each also answered with Discord's
    real error), ``unknown_routes``, ``server_errors``, ``requests``, ``command_syncs``,
    ``interactions``, ``typing``, ``reactions``, plus the message store
    (``channel_messages``) and the gateway counters on ``fake.gateway``.
    """

    def __init__(
        self,
        *,
        token: str = "fake-bot-token.Docket.0000",
        app_name: str = "Docket",
        team: bool = False,
        ack_window: float = 3.0,
        token_lifetime: float = 15 * 60,
        heartbeat_interval_ms: int = 41250,
        attachment_size_limit: int = ATTACHMENT_SIZE_LIMIT,
        application_flags: int = 0,
    ) -> None:
        self.token = token
        self.ack_window = ack_window
        self.token_lifetime = token_lifetime
        self.attachment_size_limit = attachment_size_limit
        self.application_flags = application_flags
        self.ids = Snowflakes()
        self.world = World(self.ids, app_name=app_name)
        self.app_name = app_name
        self.team = team
        self.team_id = self.ids.next()
        self.notifier = Notifier()
        self.gateway = Gateway(self, heartbeat_interval_ms)

        # Records (their types are declared on FakeDiscordBase).
        self.violations = []
        self.unknown_routes = []
        self.server_errors = []
        self.requests = []
        self.command_syncs = []
        self.global_commands = []
        self.guild_commands = {}
        self.interactions = {}
        self._by_token = {}
        self.typing = []
        self.reactions = []
        self.threads_created = []
        self.attachment_data = {}

        self.host = "127.0.0.1"
        self.port = 0
        self.rest_port = 0
        self._runner: web.AppRunner | None = None
        self._relay: StampingRelay | None = None
        self._routes = []
        self._patches: list[Callable[[], None]] = []
        self._register_routes()

    # ------------------------------------------------------------------
    # lifecycle
    # ------------------------------------------------------------------
    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/gateway", self.gateway.handle)
        app.router.add_get("/gateway-resume", self.gateway.handle)
        app.router.add_get("/attachments/{aid}/{name}", self._serve_attachment)
        app.router.add_get("/cdn/{tail:.*}", self._serve_cdn)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        # A deep accept queue: hundreds of concurrent requests must not overflow it (an
        # overflowed queue drops connections, which clients retry a second later).
        site = web.TCPSite(self._runner, self.host, 0, backlog=1024)
        await site.start()
        server = site._server
        assert server is not None
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1]
        # REST goes through a relay thread that stamps each request's arrival (see relay.py).
        self._relay = StampingRelay(self.port, self.host)
        self.rest_port = self._relay.start()

    @property
    def relay(self) -> StampingRelay:
        """The thread REST requests pass through (arrival times, ``hold``/``release``)."""
        if self._relay is None:
            raise RuntimeError("the fake is not running")
        return self._relay

    async def stop(self) -> None:
        await self.gateway.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._relay is not None:
            await asyncio.to_thread(self._relay.stop)
            self._relay = None

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        self.patch_discord()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.unpatch_discord()
        await self.stop()

    def patch_discord(self) -> None:
        """Point discord.py at this server: ``Route.BASE``, ``DEFAULT_GATEWAY``, ``Asset.BASE``."""
        import discord.asset
        import discord.gateway
        import discord.http
        import yarl

        route_cls = discord.http.Route
        ws_cls = discord.gateway.DiscordWebSocket
        old_base = route_cls.BASE
        old_gateway = ws_cls.DEFAULT_GATEWAY
        asset_cls = discord.asset.Asset
        old_asset_base = asset_cls.BASE
        route_cls.BASE = self.api_base
        ws_cls.DEFAULT_GATEWAY = yarl.URL(self.gateway_url)
        # Avatars etc. are built from Asset.BASE: keep those local too.
        asset_cls.BASE = f"{self.base_url}/cdn"

        def restore() -> None:
            route_cls.BASE = old_base
            ws_cls.DEFAULT_GATEWAY = old_gateway
            asset_cls.BASE = old_asset_base

        self._patches.append(restore)

    def unpatch_discord(self) -> None:
        while self._patches:
            self._patches.pop()()

    @contextlib.contextmanager
    def patched(self) -> Iterator[FakeDiscord]:
        """Context manager form of ``patch_discord``/``unpatch_discord``."""
        self.patch_discord()
        try:
            yield self
        finally:
            self.unpatch_discord()

    async def start_bot(self, bot: discord.Client, *, timeout: float = 10.0) -> asyncio.Task[None]:  # noqa: ASYNC109
        """``login`` (runs setup_hook), start ``connect`` in a task, wait for on_ready."""
        await asyncio.wait_for(bot.login(self.token), timeout)
        task: asyncio.Task[None] = asyncio.create_task(bot.connect(), name="fakediscord-bot")
        ready: asyncio.Task[None] = asyncio.create_task(bot.wait_until_ready())
        done, _ = await asyncio.wait(
            {task, ready}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
        if ready in done:
            return task
        ready.cancel()
        if task in done:
            task.result()
            raise RuntimeError("bot.connect() returned before the bot became ready")
        task.cancel()
        raise TimeoutError(
            f"bot not ready after {timeout}s (identifies={self.gateway.identify_count}; "
            "did you pass guild_ready_timeout=0.1?)"
        )

    async def stop_bot(self, bot: discord.Client, task: asyncio.Task[None] | None = None) -> None:
        await bot.close()
        if task is not None:
            try:
                await asyncio.wait_for(task, 5.0)
            except (TimeoutError, asyncio.CancelledError):
                task.cancel()

    @contextlib.asynccontextmanager
    async def running(
        self,
        bot: discord.Client,
        *,
        timeout: float = 10.0,  # noqa: ASYNC109
    ) -> AsyncIterator[discord.Client]:
        """Run ``bot`` against this fake for the duration of the block."""
        task = await self.start_bot(bot, timeout=timeout)
        try:
            yield bot
        finally:
            await self.stop_bot(bot, task)

    # ------------------------------------------------------------------
    # the REST route table (handlers live in the routes_* mixins)
    # ------------------------------------------------------------------
    def _register_routes(self) -> None:
        r = self._route
        r("GET", "/users/@me", self._get_me)
        r("GET", "/users/{user_id}", self._get_user)
        r("POST", "/users/@me/channels", self._create_dm)
        r("GET", "/oauth2/applications/@me", self._get_application)
        r("GET", "/applications/@me", self._get_application)
        r("GET", "/gateway", self._get_gateway, auth=False)
        r("GET", "/gateway/bot", self._get_gateway_bot)
        r("PUT", "/applications/{app_id}/commands", self._put_commands)
        r("GET", "/applications/{app_id}/commands", self._get_commands)
        r("POST", "/applications/{app_id}/commands", self._post_command)
        r("DELETE", "/applications/{app_id}/commands/{command_id}", self._delete_command)
        r("PUT", "/applications/{app_id}/guilds/{guild_id}/commands", self._put_commands)
        r("GET", "/applications/{app_id}/guilds/{guild_id}/commands", self._get_commands)
        r("POST", "/applications/{app_id}/guilds/{guild_id}/commands", self._post_command)
        r(
            "DELETE",
            "/applications/{app_id}/guilds/{guild_id}/commands/{command_id}",
            self._delete_command,
        )
        r("POST", "/interactions/{interaction_id}/{token}/callback", self._callback, auth=False)
        r("POST", "/webhooks/{app_id}/{token}", self._followup, auth=False)
        for method, handler in (
            ("GET", self._get_webhook_message),
            ("PATCH", self._edit_webhook_message),
            ("DELETE", self._delete_webhook_message),
        ):
            r(method, "/webhooks/{app_id}/{token}/messages/{message_id}", handler, auth=False)
        r("GET", "/channels/{channel_id}", self._get_channel)
        r("GET", "/channels/{channel_id}/messages", self._get_messages)
        r("POST", "/channels/{channel_id}/messages", self._post_message)
        r("GET", "/channels/{channel_id}/messages/{message_id}", self._get_message)
        r("PATCH", "/channels/{channel_id}/messages/{message_id}", self._patch_message)
        r("DELETE", "/channels/{channel_id}/messages/{message_id}", self._delete_message)
        r("POST", "/channels/{channel_id}/typing", self._typing)
        r("POST", "/channels/{channel_id}/threads", self._create_thread)
        r(
            "POST",
            "/channels/{channel_id}/messages/{message_id}/threads",
            self._create_thread_from_message,
        )
        for method in ("PUT", "DELETE"):
            r(
                method,
                "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/{who}",
                self._reaction,
            )
        r("GET", "/guilds/{guild_id}", self._get_guild)
        r("GET", "/guilds/{guild_id}/channels", self._get_guild_channels)
        r("GET", "/guilds/{guild_id}/roles", self._get_guild_roles)
        r("GET", "/guilds/{guild_id}/members/{user_id}", self._get_member)
