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
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import logging
import re
import secrets
import time
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .errors import (
    DiscordAPIError,
    already_acknowledged,
    flatten_errors,
    invalid_form_body,
    missing_access,
    missing_permissions,
    unauthorized,
    unknown_guild,
    unknown_interaction,
    unknown_member,
    unknown_message,
    unknown_webhook,
)
from .gateway import Gateway, GatewaySession
from .interactions import OptionBuilder, find_component, modal_submit_components
from .limits import (
    ATTACHMENT_SIZE_LIMIT,
    FLAG_COMPONENTS_V2,
    FLAG_EPHEMERAL,
    FLAG_LOADING,
    FLAG_SUPPRESS_NOTIFICATIONS,
    THREAD_NAME_MAX,
    is_empty_message,
    validate_autocomplete_choices,
    validate_commands,
    validate_message,
)
from .state import (
    CALLBACK_NAMES,
    FakeChannel,
    FakeGuild,
    FakeRole,
    FakeUser,
    InteractionRecord,
    Notifier,
    P,
    Snowflakes,
    compute_mentions,
    iso_now,
    notifies,
)
from .world import World

if TYPE_CHECKING:
    import discord

_log = logging.getLogger(__name__)

INTENT_GUILD_MEMBERS = 1 << 1
INTENT_GUILD_MESSAGES = 1 << 9
INTENT_DIRECT_MESSAGES = 1 << 12
INTENT_MESSAGE_CONTENT = 1 << 15

# Keys kept on stored messages for tests, never sent to the bot.
INTERNAL_KEYS = frozenset(
    {"pinged", "mentioned", "_source", "_kind", "_allowed_mentions", "_interaction_id", "_deleted"}
)

MESSAGE_EDITABLE = ("content", "embeds", "components", "attachments", "poll")
# Flags a bot may set when sending: SUPPRESS_EMBEDS, EPHEMERAL, SUPPRESS_NOTIFICATIONS, IS_COMPONENTS_V2
SENDABLE_FLAGS = (1 << 2) | FLAG_EPHEMERAL | FLAG_SUPPRESS_NOTIFICATIONS | FLAG_COMPONENTS_V2


_PNG_1X1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000b49444154789c6360000200000500017a5eab3f0000000049454e44ae426082"
)


def wire(message: dict[str, Any]) -> dict[str, Any]:
    """A stored message as Discord would send it (test-only keys removed)."""
    return {k: copy.deepcopy(v) for k, v in message.items() if k not in INTERNAL_KEYS}


def _json_response(body: Any, status: int = 200) -> web.Response:
    # discord.py only parses JSON when Content-Type is exactly "application/json".
    return web.Response(
        body=json.dumps(body, separators=(",", ":")).encode(),
        status=status,
        headers={"Content-Type": "application/json"},
    )


@dataclass
class Req:
    """A parsed REST request as handlers see it."""

    method: str
    path: str
    params: dict[str, str]
    query: Mapping[str, str]
    headers: Mapping[str, str]
    json: Any
    files: list[dict[str, Any]]
    at: float


@dataclass
class CommandSync:
    """One bulk overwrite of application commands (``guild_id`` None = global)."""

    guild_id: int | None
    commands: list[dict[str, Any]]
    at: float = field(default_factory=time.time)


Handler = Callable[[Req], Awaitable[Any]]


class NoContent:
    """Marker: answer 204."""


NO_CONTENT = NoContent()


class FakeDiscord:
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

        self.violations: list[str] = []
        self.unknown_routes: list[str] = []
        self.server_errors: list[str] = []
        self.requests: list[dict[str, Any]] = []
        self.command_syncs: list[CommandSync] = []
        self.global_commands: list[dict[str, Any]] = []
        self.guild_commands: dict[int, list[dict[str, Any]]] = {}
        self.interactions: dict[int, InteractionRecord] = {}
        self._by_token: dict[str, InteractionRecord] = {}
        self.typing: list[tuple[int, float]] = []
        self.reactions: list[dict[str, Any]] = []
        self.threads_created: list[FakeChannel] = []
        self.attachment_data: dict[int, bytes] = {}

        self.host = "127.0.0.1"
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._routes: list[tuple[str, re.Pattern[str], Handler, bool]] = []
        self._patches: list[Callable[[], None]] = []
        self._register_routes()

    # ------------------------------------------------------------------
    # convenient world accessors
    # ------------------------------------------------------------------
    @property
    def guild(self) -> FakeGuild:
        return self.world.guild

    @property
    def guild_id(self) -> int:
        return self.world.guild.id

    @property
    def application_id(self) -> int:
        return self.world.application_id

    @property
    def bot_user(self) -> FakeUser:
        return self.world.bot_user

    @property
    def admin(self) -> FakeUser:
        return self.world.admin

    @property
    def member(self) -> FakeUser:
        return self.world.member

    @property
    def manager(self) -> FakeUser:
        return self.world.manager

    @property
    def owner(self) -> FakeUser:
        return self.world.owner

    @property
    def server_owner(self) -> FakeUser:
        return self.world.server_owner

    @property
    def general(self) -> FakeChannel:
        return self.world.general

    @property
    def bot_commands(self) -> FakeChannel:
        return self.world.bot_commands

    @property
    def read_only(self) -> FakeChannel:
        return self.world.read_only

    @property
    def staff(self) -> FakeChannel:
        return self.world.staff

    @property
    def admin_role(self) -> FakeRole:
        return self.world.admin_role

    @property
    def moderator_role(self) -> FakeRole:
        return self.world.moderator_role

    @property
    def everyone_role(self) -> FakeRole:
        return self.world.everyone_role

    # ------------------------------------------------------------------
    # lifecycle
    # ------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_base(self) -> str:
        return f"{self.base_url}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://{self.host}:{self.port}/gateway"

    @property
    def resume_gateway_url(self) -> str:
        return f"ws://{self.host}:{self.port}/gateway-resume"

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/gateway", self.gateway.handle)
        app.router.add_get("/gateway-resume", self.gateway.handle)
        app.router.add_get("/attachments/{aid}/{name}", self._serve_attachment)
        app.router.add_get("/cdn/{tail:.*}", self._serve_cdn)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        server = site._server
        assert server is not None
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1]

    async def stop(self) -> None:
        await self.gateway.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

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
    # records & waiting
    # ------------------------------------------------------------------
    def violation(self, text: str) -> None:
        _log.warning("fakediscord violation: %s", text)
        self.violations.append(text)
        self.notifier.notify()

    def problems(self) -> list[str]:
        """Violations, unknown routes and internal errors, one line each."""
        return (
            [f"violation: {v}" for v in self.violations]
            + [f"unknown route: {r}" for r in self.unknown_routes]
            + [f"server error: {e}" for e in self.server_errors]
        )

    def assert_clean(self) -> None:
        problems = self.problems()
        assert not problems, "fake Discord saw problems:\n" + "\n".join(problems)

    async def wait_until(
        self,
        predicate: Callable[[], Any],
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> Any:
        """Wait until ``predicate()`` is truthy (re-checked whenever the fake records anything)."""
        return await self.notifier.wait_until(predicate, timeout)

    def channel_messages(self, channel: FakeChannel | int) -> list[dict[str, Any]]:
        """Stored messages of a channel, oldest first (current state, with ``pinged``)."""
        cid = channel.id if isinstance(channel, FakeChannel) else int(channel)
        return [self.world.messages[m] for m in self.world.channel_index.get(cid, [])]

    def bot_messages(self, channel: FakeChannel | int | None = None) -> list[dict[str, Any]]:
        """Messages authored by the bot (channel sends, interaction responses)."""
        if channel is None:
            msgs = list(self.world.messages.values())
        else:
            msgs = self.channel_messages(channel)
        return [m for m in msgs if int(m["author"]["id"]) == self.bot_user.id]

    def message(self, message_id: int | str) -> dict[str, Any]:
        return self.world.messages[int(message_id)]

    async def wait_for_channel_message(
        self,
        channel: FakeChannel | int,
        predicate: Callable[[dict[str, Any]], bool] | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109
        *,
        after: int | dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """First stored message in ``channel`` (past or future) matching ``predicate``.

        Default predicate: authored by the bot. ``after`` (a message or id) skips older ones.
        """
        cid = channel.id if isinstance(channel, FakeChannel) else int(channel)
        floor = 0
        if isinstance(after, dict):
            floor = int(after["id"])
        elif after is not None:
            floor = int(after)
        pred = predicate or (lambda m: int(m["author"]["id"]) == self.bot_user.id)

        def check() -> dict[str, Any] | None:
            for m in self.channel_messages(cid):
                if int(m["id"]) > floor and pred(m):
                    return m
            return None

        def describe() -> str:
            msgs = [
                (m["author"]["username"], m["content"][:60]) for m in self.channel_messages(cid)
            ]
            return f"channel {cid} has {msgs}; violations={self.violations}"

        result: dict[str, Any] = await self.notifier.wait_until(check, timeout, describe)
        return result

    def sync_count(self, guild_id: int | str | None = "any") -> int:
        """Number of bulk command overwrites (``"any"`` scope, ``None`` = global, or a guild)."""
        if guild_id == "any":
            return len(self.command_syncs)
        return sum(1 for s in self.command_syncs if s.guild_id == guild_id)

    def commands(self, guild_id: int | None = None) -> list[dict[str, Any]]:
        """Currently registered commands (global when ``guild_id`` is None)."""
        if guild_id is None:
            return list(self.global_commands)
        return list(self.guild_commands.get(int(guild_id), []))

    # ------------------------------------------------------------------
    # gateway payloads
    # ------------------------------------------------------------------
    def _bot_user_payload(self) -> dict[str, Any]:
        data = self.bot_user.payload()
        data.update({"verified": True, "mfa_enabled": False, "email": None, "locale": "en-US"})
        return data

    def _ready_payload(self, session: GatewaySession) -> dict[str, Any]:
        return {
            "v": 10,
            "user": self._bot_user_payload(),
            "guilds": [{"id": str(self.guild_id), "unavailable": True}],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self.resume_gateway_url,
            "application": {"id": str(self.application_id), "flags": self.application_flags},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
            "user_settings": {},
            "shard": session.shard or [0, 1],
            "_trace": ["fakediscord"],
        }

    def _guild_payload(self) -> dict[str, Any]:
        g = self.world.guild
        return {
            "id": str(g.id),
            "name": g.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(g.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 1,
            "explicit_content_filter": 0,
            "features": [],
            "mfa_level": 0,
            "application_id": None,
            "system_channel_id": str(self.general.id),
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "vanity_url_code": None,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": g.locale,
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
            "roles": [r.payload() for r in g.roles.values()],
            "emojis": [],
            "stickers": [],
        }

    def _guild_create_payloads(self) -> list[dict[str, Any]]:
        g = self.world.guild
        data = self._guild_payload()
        if self.gateway.intents & INTENT_GUILD_MEMBERS:
            members = [m.payload() for m in g.members.values()]
        else:
            # Without the privileged members intent Discord only sends the bot itself.
            members = [g.members[self.bot_user.id].payload()]
        channels = []
        for cid in g.channel_ids:
            ch = self.world.channels[cid].payload()
            ch.pop("guild_id", None)
            channels.append(ch)
        data.update(
            {
                "joined_at": g.members[self.bot_user.id].joined_at,
                "large": False,
                "unavailable": False,
                "member_count": len(g.members),
                "members": members,
                "channels": channels,
                "threads": [self.world.channels[t].payload() for t in self.world.thread_ids()],
                "presences": [],
                "voice_states": [],
                "stage_instances": [],
                "guild_scheduled_events": [],
                "soundboard_sounds": [],
            }
        )
        return [data]

    # ------------------------------------------------------------------
    # routing
    # ------------------------------------------------------------------
    def _route(self, method: str, pattern: str, handler: Handler, *, auth: bool = True) -> None:
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern)
        self._routes.append((method, re.compile(rf"^/api/v\d+{regex}$"), handler, auth))

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

    async def _parse_body(self, request: web.Request) -> tuple[Any, list[dict[str, Any]]]:
        ctype = request.headers.get("Content-Type", "")
        files: list[dict[str, Any]] = []
        body: Any = None
        if ctype.startswith("multipart/form-data"):
            form = await request.post()
            for key, value in form.items():
                if key == "payload_json":
                    body = json.loads(str(value))
                elif isinstance(value, web.FileField):
                    data = value.file.read()
                    files.append(
                        {
                            "field": key,
                            "filename": value.filename,
                            "content_type": value.content_type,
                            "size": len(data),
                            "data": data,
                        }
                    )
        elif request.can_read_body:
            text = await request.text()
            if text:
                try:
                    body = json.loads(text)
                except ValueError:
                    raise DiscordAPIError(
                        400, 50109, "The request body contains invalid JSON."
                    ) from None
        return body, files

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        at = asyncio.get_running_loop().time()
        path = request.path
        method = request.method
        record: dict[str, Any] = {"method": method, "path": path, "query": dict(request.query)}
        self.requests.append(record)
        try:
            match = None
            for r_method, regex, handler, auth in self._routes:
                m = regex.match(path)
                if m and r_method == method:
                    match = (m, handler, auth)
                    break
            if match is None:
                self.unknown_routes.append(f"{method} {path}")
                _log.warning("fakediscord: unknown route %s %s", method, path)
                raise DiscordAPIError(404, 0, "404: Not Found")
            m, handler, auth = match
            if auth and request.headers.get("Authorization") != f"Bot {self.token}":
                raise unauthorized()
            body, files = await self._parse_body(request)
            record["json"] = body
            req = Req(method, path, m.groupdict(), request.query, request.headers, body, files, at)
            result = await handler(req)
            if isinstance(result, web.StreamResponse):
                record["status"] = result.status
                return result
            if result is NO_CONTENT:
                record["status"] = 204
                return web.Response(status=204)
            record["status"] = 200
            return _json_response(result)
        except DiscordAPIError as exc:
            record["status"] = exc.status
            record["error"] = exc.body()
            if exc.violation:
                detail = flatten_errors(exc.errors or {})
                self.violation(
                    f"{exc.violation} -> {exc.status} {exc.code} {exc.message}"
                    + (f" {detail}" if detail else "")
                )
            return _json_response(exc.body(), exc.status)
        except Exception as exc:  # a bug in the fake: answer 400 so discord.py doesn't retry
            text = f"{method} {path}: {exc!r}\n{traceback.format_exc()}"
            _log.error("fakediscord internal error: %s", text)
            self.server_errors.append(text)
            record["status"] = 400
            return _json_response(
                {"message": f"fakediscord internal error: {exc!r}", "code": 0}, 400
            )
        finally:
            self.notifier.notify()

    # ------------------------------------------------------------------
    # users / application / gateway
    # ------------------------------------------------------------------
    async def _get_me(self, req: Req) -> Any:
        return self._bot_user_payload()

    async def _get_user(self, req: Req) -> Any:
        user = self.world.users.get(int(req.params["user_id"]))
        if user is None:
            raise DiscordAPIError(404, 10013, "Unknown User")
        return user.payload()

    async def _create_dm(self, req: Req) -> Any:
        uid = int((req.json or {}).get("recipient_id", 0))
        user = self.world.users.get(uid)
        if user is None:
            raise DiscordAPIError(404, 10013, "Unknown User")
        return self.world.dm_channel(user).payload()

    async def _get_application(self, req: Req) -> Any:
        owner = self.owner.payload()
        team = None
        if self.team:
            team = {
                "id": str(self.team_id),
                "name": f"{self.app_name} Team",
                "icon": None,
                "owner_user_id": str(self.owner.id),
                "members": [
                    {
                        "membership_state": 2,
                        "team_id": str(self.team_id),
                        "user": self.owner.payload(),
                        "role": "admin",
                        "permissions": ["*"],
                    }
                ],
            }
            # Discord reports a pseudo-user as owner of team-owned applications.
            owner = FakeUser(id=self.team_id, username=f"team{self.team_id}").payload()
            owner["flags"] = 1024
        return {
            "id": str(self.application_id),
            "name": self.app_name,
            "icon": None,
            "description": "",
            "summary": "",
            "type": None,
            "rpc_origins": [],
            "bot_public": True,
            "bot_require_code_grant": False,
            "bot": self.bot_user.payload(),
            "owner": owner,
            "team": team,
            "verify_key": "0" * 64,
            "flags": self.application_flags,
            "tags": [],
            "redirect_uris": [],
            "interactions_endpoint_url": None,
            "approximate_guild_count": 1,
            "integration_types_config": {"0": {}},
        }

    async def _get_gateway(self, req: Req) -> Any:
        return {"url": self.gateway_url}

    async def _get_gateway_bot(self, req: Req) -> Any:
        return {
            "url": self.gateway_url,
            "shards": 1,
            "session_start_limit": {
                "total": 1000,
                "remaining": 999,
                "reset_after": 0,
                "max_concurrency": 1,
            },
        }

    # ------------------------------------------------------------------
    # application commands
    # ------------------------------------------------------------------
    def _check_app(self, req: Req) -> None:
        if int(req.params["app_id"]) != self.application_id:
            raise DiscordAPIError(403, 50001, "Missing Access")

    def _command_scope(self, req: Req) -> tuple[int | None, list[dict[str, Any]]]:
        self._check_app(req)
        gid = req.params.get("guild_id")
        if gid is None:
            return None, self.global_commands
        if int(gid) != self.guild_id:
            raise missing_access(violation=f"command sync for guild {gid} the bot is not in")
        return int(gid), self.guild_commands.setdefault(int(gid), [])

    def _store_command(
        self, cmd: dict[str, Any], guild_id: int | None, existing: list[dict[str, Any]]
    ) -> dict[str, Any]:
        ctype = int(cmd.get("type", 1))
        prev = next(
            (c for c in existing if c["name"] == cmd.get("name") and c["type"] == ctype), None
        )
        stored: dict[str, Any] = {
            "id": prev["id"] if prev else str(self.ids.next()),
            "application_id": str(self.application_id),
            "version": str(self.ids.next()),
            "type": ctype,
            "name": cmd.get("name"),
            "name_localizations": cmd.get("name_localizations"),
            "description": cmd.get("description", ""),
            "description_localizations": cmd.get("description_localizations"),
            "options": cmd.get("options") or [],
            "default_member_permissions": cmd.get("default_member_permissions"),
            "nsfw": bool(cmd.get("nsfw", False)),
        }
        if guild_id is not None:
            stored["guild_id"] = str(guild_id)
        else:
            stored["dm_permission"] = cmd.get("dm_permission", True)
            stored["contexts"] = cmd.get("contexts")
            stored["integration_types"] = cmd.get("integration_types") or [0]
        if stored["default_member_permissions"] is not None:
            stored["default_member_permissions"] = str(stored["default_member_permissions"])
        return stored

    async def _put_commands(self, req: Req) -> Any:
        guild_id, existing = self._command_scope(req)
        body = req.json if req.json is not None else []
        scope = f"guild {guild_id}" if guild_id else "global"
        errors = validate_commands(body)
        if errors:
            raise invalid_form_body(errors, violation=f"invalid {scope} command sync")
        stored = [self._store_command(c, guild_id, existing) for c in body]
        existing[:] = stored
        self.command_syncs.append(CommandSync(guild_id, copy.deepcopy(stored)))
        return stored

    async def _get_commands(self, req: Req) -> Any:
        _, existing = self._command_scope(req)
        return existing

    async def _post_command(self, req: Req) -> Any:
        guild_id, existing = self._command_scope(req)
        errors = validate_commands([req.json or {}])
        if errors:
            raise invalid_form_body(errors.get("0", errors), violation="invalid command upsert")
        stored = self._store_command(req.json or {}, guild_id, existing)
        existing[:] = [c for c in existing if c["id"] != stored["id"]] + [stored]
        return stored

    async def _delete_command(self, req: Req) -> Any:
        _, existing = self._command_scope(req)
        before = len(existing)
        existing[:] = [c for c in existing if c["id"] != req.params["command_id"]]
        if len(existing) == before:
            raise DiscordAPIError(404, 10063, "Unknown application command")
        return NO_CONTENT

    def _find_command(self, name: str, ctype: int, in_guild: bool) -> dict[str, Any]:
        candidates: list[dict[str, Any]] = []
        if in_guild:
            candidates += self.guild_commands.get(self.guild_id, [])
        candidates += self.global_commands
        for cmd in candidates:
            if cmd["name"] == name and cmd["type"] == ctype:
                return cmd
        synced = sorted({c["name"] for c in candidates})
        raise LookupError(
            f"command {name!r} (type {ctype}) was not synced "
            f"{'for the guild or globally' if in_guild else 'globally'}; synced: {synced}"
        )

    # ------------------------------------------------------------------
    # messages: shared machinery
    # ------------------------------------------------------------------
    def _attachments(
        self, payload: dict[str, Any], files: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        meta = {
            str(a.get("id")): a for a in payload.get("attachments") or [] if isinstance(a, dict)
        }
        out = []
        for index, f in enumerate(files):
            if f["size"] > self.attachment_size_limit:
                raise DiscordAPIError(
                    413,
                    40005,
                    "Request entity too large",
                    violation=f"file {f['filename']!r} is {f['size']} bytes "
                    f"(limit {self.attachment_size_limit})",
                )
            m = re.match(r"files\[(\d+)\]", f["field"])
            key = m.group(1) if m else str(index)
            info = meta.get(key, {})
            filename = info.get("filename") or f["filename"] or f"file{index}"
            aid, url = self.store_attachment(filename, f["data"])
            out.append(
                {
                    "id": str(aid),
                    "filename": filename,
                    "description": info.get("description"),
                    "size": f["size"],
                    "url": url,
                    "proxy_url": url,
                    "content_type": f["content_type"],
                }
            )
        return out

    def store_attachment(self, filename: str, data: bytes) -> tuple[int, str]:
        """Keep uploaded bytes; returns (attachment id, local URL that serves them)."""
        aid = self.ids.next()
        self.attachment_data[aid] = data
        return aid, f"{self.base_url}/attachments/{aid}/{filename}"

    async def _serve_attachment(self, request: web.Request) -> web.StreamResponse:
        data = self.attachment_data.get(int(request.match_info["aid"]))
        if data is None:
            return web.Response(status=404)
        return web.Response(body=data, content_type="application/octet-stream")

    async def _serve_cdn(self, request: web.Request) -> web.StreamResponse:
        # Avatars, icons, ...: a 1x1 transparent PNG for any CDN asset.
        return web.Response(body=_PNG_1X1, content_type="image/png")

    def _validate(
        self, payload: dict[str, Any], n_files: int, base: list[str | int], what: str
    ) -> None:
        errors = validate_message(payload, base=base, n_files=n_files)
        if errors:
            raise invalid_form_body(errors, violation=what)

    def _mentions_payload(self, user_ids: list[int], guild: bool) -> list[dict[str, Any]]:
        out = []
        for uid in user_ids:
            user = self.world.users.get(uid)
            if user is None:
                continue
            data = user.payload()
            member = self.world.guild.members.get(uid) if guild else None
            if member is not None:
                data["member"] = member.payload(with_user=False)
            out.append(data)
        return out

    def _apply_mentions(
        self,
        msg: dict[str, Any],
        *,
        author_id: int,
        channel: FakeChannel,
        allowed: dict[str, Any] | None,
        can_mention_everyone: bool,
        ping: bool,
    ) -> None:
        guild = self.world.guild_of(channel)
        replied_user_id = None
        ref = msg.get("referenced_message")
        if isinstance(ref, dict):
            replied_user_id = int(ref["author"]["id"])
        result = compute_mentions(
            msg.get("content"),
            allowed,
            guild=guild,
            author_id=author_id,
            author_can_mention_everyone=can_mention_everyone,
            replied_user_id=replied_user_id,
        )
        msg["mentions"] = self._mentions_payload(result.users, guild is not None)
        msg["mention_roles"] = [str(r) for r in result.roles]
        msg["mention_everyone"] = result.everyone or result.here
        msg["mentioned"] = result.mentioned
        msg["pinged"] = list(result.mentioned) if ping and notifies(msg) else []

    def _new_message(
        self,
        *,
        channel: FakeChannel,
        author: FakeUser,
        payload: dict[str, Any],
        attachments: list[dict[str, Any]],
        source: str,
        msg_type: int = 0,
        webhook_id: int | None = None,
        interaction_metadata: dict[str, Any] | None = None,
        can_mention_everyone: bool,
        flags: int = 0,
    ) -> dict[str, Any]:
        mid = self.ids.next()
        guild = self.world.guild_of(channel)
        content = payload.get("content")
        msg: dict[str, Any] = {
            "id": str(mid),
            "channel_id": str(channel.id),
            "author": author.payload(),
            "content": "" if content is None else str(content),
            "timestamp": iso_now(),
            "edited_timestamp": None,
            "tts": bool(payload.get("tts", False)),
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": attachments,
            "embeds": [self._normalize_embed(e) for e in payload.get("embeds") or []],
            "components": copy.deepcopy(payload.get("components") or []),
            "reactions": [],
            "pinned": False,
            "type": msg_type,
            "flags": flags | (int(payload.get("flags") or 0) & SENDABLE_FLAGS),
        }
        if guild is not None:
            msg["guild_id"] = str(guild.id)
            member = guild.members.get(author.id)
            if member is not None and webhook_id is None:
                msg["member"] = member.payload(with_user=False)
        if payload.get("nonce") is not None:
            msg["nonce"] = payload["nonce"]
        if webhook_id is not None:
            msg["webhook_id"] = str(webhook_id)
            msg["application_id"] = str(self.application_id)
        if interaction_metadata is not None:
            msg["interaction_metadata"] = interaction_metadata
        if payload.get("poll") is not None:
            msg["poll"] = payload["poll"]
        ref = payload.get("message_reference")
        if isinstance(ref, dict) and ref.get("message_id") is not None:
            target = self.world.messages.get(int(ref["message_id"]))
            if target is None or target.get("_deleted"):
                if ref.get("fail_if_not_exists", True):
                    raise invalid_form_body(
                        {
                            "message_reference": {
                                "_errors": [
                                    {
                                        "code": "MESSAGE_REFERENCE_UNKNOWN_MESSAGE",
                                        "message": "Unknown message",
                                    }
                                ]
                            }
                        }
                    )
            else:
                msg["type"] = 19 if msg_type == 0 else msg_type
                msg["message_reference"] = {
                    "type": 0,
                    "message_id": target["id"],
                    "channel_id": target["channel_id"],
                    "guild_id": target.get("guild_id"),
                }
                msg["referenced_message"] = wire(target)
        msg["_source"] = source
        msg["_allowed_mentions"] = payload.get("allowed_mentions")
        self._apply_mentions(
            msg,
            author_id=author.id,
            channel=channel,
            allowed=payload.get("allowed_mentions"),
            can_mention_everyone=can_mention_everyone,
            ping=True,
        )
        self.world.messages[mid] = msg
        self.world.channel_index.setdefault(channel.id, []).append(mid)
        if channel.is_thread:
            channel.message_count += 1
        return msg

    @staticmethod
    def _normalize_embed(embed: dict[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(embed)
        out.setdefault("type", "rich")
        return out

    def _edit(
        self,
        msg: dict[str, Any],
        payload: dict[str, Any],
        new_attachments: list[dict[str, Any]],
        *,
        can_mention_everyone: bool,
        completes_defer: bool = False,
    ) -> None:
        """Apply a PATCH body. Edits never notify (``pinged`` = []); ``mentioned`` is kept."""
        if "content" in payload:
            msg["content"] = "" if payload["content"] is None else str(payload["content"])
        if "embeds" in payload:
            msg["embeds"] = [self._normalize_embed(e) for e in payload["embeds"] or []]
        if "components" in payload:
            msg["components"] = copy.deepcopy(payload["components"] or [])
        if "poll" in payload:
            msg["poll"] = payload["poll"]
        if "attachments" in payload:
            keep = {str(a.get("id")) for a in payload["attachments"] or [] if isinstance(a, dict)}
            msg["attachments"] = [a for a in msg["attachments"] if a["id"] in keep]
        msg["attachments"] = msg["attachments"] + new_attachments
        if "flags" in payload and payload["flags"] is not None:
            keep_flags = int(msg.get("flags") or 0) & ~(SENDABLE_FLAGS & ~FLAG_EPHEMERAL)
            msg["flags"] = keep_flags | (int(payload["flags"]) & SENDABLE_FLAGS & ~FLAG_EPHEMERAL)
        if completes_defer:
            msg["flags"] = int(msg.get("flags") or 0) & ~FLAG_LOADING
        else:
            msg["edited_timestamp"] = iso_now()
        if "allowed_mentions" in payload:
            msg["_allowed_mentions"] = payload["allowed_mentions"]
        if is_empty_message(msg):
            raise DiscordAPIError(
                400,
                50006,
                "Cannot send an empty message",
                violation="edit would leave the message empty",
            )
        self._apply_mentions(
            msg,
            author_id=int(msg["author"]["id"]),
            channel=self.world.channel(msg["channel_id"]),
            allowed=msg.get("_allowed_mentions"),
            can_mention_everyone=can_mention_everyone,
            ping=False,
        )

    def _bot_sees(self, msg: dict[str, Any]) -> bool:
        channel = self.world.channel(msg["channel_id"])
        intents = self.gateway.intents
        if channel.type == 1:
            return bool(intents & INTENT_DIRECT_MESSAGES)
        if not intents & INTENT_GUILD_MESSAGES:
            return False
        return bool(self.world.permissions(self.bot_user.id, channel) & P.VIEW_CHANNEL)

    def _gateway_message(self, msg: dict[str, Any]) -> dict[str, Any]:
        """The MESSAGE_CREATE/UPDATE body, with content hidden without MESSAGE_CONTENT."""
        data = wire(msg)
        bot_id = self.bot_user.id
        channel = self.world.channel(msg["channel_id"])
        exempt = (
            int(msg["author"]["id"]) == bot_id
            or channel.type == 1
            or any(int(u["id"]) == bot_id for u in msg.get("mentions", []))
        )
        if not self.gateway.intents & INTENT_MESSAGE_CONTENT and not exempt:
            data.update({"content": "", "embeds": [], "attachments": [], "components": []})
            data.pop("poll", None)
        return data

    async def _echo(self, event: str, msg: dict[str, Any]) -> None:
        """Deliver a message event over the gateway like Discord (also for the bot's own)."""
        if msg["flags"] & FLAG_EPHEMERAL or self.gateway.session is None:
            return
        if not self._bot_sees(msg):
            return
        await self.gateway.dispatch(event, self._gateway_message(msg))

    def _bot_send_check(self, channel: FakeChannel, *, files: bool = False) -> int:
        """Permission check for the bot posting to a channel; returns its permissions."""
        if channel.type == 1:
            return self.world.permissions(self.bot_user.id, channel)
        perms = self.world.permissions(self.bot_user.id, channel)
        where = f"#{channel.name} ({channel.id})"
        if not perms & P.VIEW_CHANNEL:
            raise missing_access(violation=f"bot cannot view {where}")
        needed = P.SEND_MESSAGES_IN_THREADS if channel.is_thread else P.SEND_MESSAGES
        if not perms & needed:
            raise missing_permissions(
                violation=f"bot lacks {'Send Messages in Threads' if channel.is_thread else 'Send Messages'} in {where}"
            )
        if files and not perms & P.ATTACH_FILES:
            raise missing_permissions(violation=f"bot lacks Attach Files in {where}")
        return perms

    def _message_in(self, channel_id: str, message_id: str) -> dict[str, Any]:
        msg = self.world.messages.get(int(message_id))
        if msg is None or msg.get("_deleted") or msg["channel_id"] != str(int(channel_id)):
            raise unknown_message()
        return msg

    # ------------------------------------------------------------------
    # channel routes
    # ------------------------------------------------------------------
    async def _get_channel(self, req: Req) -> Any:
        ch = self.world.channel(req.params["channel_id"])
        if ch.type != 1 and not self.world.permissions(self.bot_user.id, ch) & P.VIEW_CHANNEL:
            raise missing_access()
        return ch.payload()

    async def _post_message(self, req: Req) -> Any:
        channel = self.world.channel(req.params["channel_id"])
        payload = req.json or {}
        perms = self._bot_send_check(channel, files=bool(req.files))
        self._validate(payload, len(req.files), [], f"message to #{channel.name or channel.id}")
        attachments = self._attachments(payload, req.files)
        if is_empty_message({**payload, "attachments": attachments}):
            raise DiscordAPIError(
                400,
                50006,
                "Cannot send an empty message",
                violation=f"empty message to #{channel.name or channel.id}",
            )
        msg = self._new_message(
            channel=channel,
            author=self.bot_user,
            payload=payload,
            attachments=attachments,
            source="rest",
            can_mention_everyone=bool(perms & P.MENTION_EVERYONE),
        )
        await self._echo("MESSAGE_CREATE", msg)
        return wire(msg)

    async def _get_message(self, req: Req) -> Any:
        channel = self.world.channel(req.params["channel_id"])
        perms = self.world.permissions(self.bot_user.id, channel)
        if not perms & P.VIEW_CHANNEL:
            raise missing_access()
        if not perms & P.READ_MESSAGE_HISTORY:
            raise missing_permissions()
        return self._gateway_message(
            self._message_in(req.params["channel_id"], req.params["message_id"])
        )

    async def _get_messages(self, req: Req) -> Any:
        channel = self.world.channel(req.params["channel_id"])
        perms = self.world.permissions(self.bot_user.id, channel)
        if not perms & P.VIEW_CHANNEL:
            raise missing_access()
        if not perms & P.READ_MESSAGE_HISTORY:
            return []
        msgs = [m for m in self.channel_messages(channel) if not m["flags"] & FLAG_EPHEMERAL]
        limit = int(req.query.get("limit", 50))
        if "before" in req.query:
            msgs = [m for m in msgs if int(m["id"]) < int(req.query["before"])]
        if "after" in req.query:
            msgs = [m for m in msgs if int(m["id"]) > int(req.query["after"])]
            msgs = msgs[:limit]
        else:
            msgs = msgs[-limit:]
        return [self._gateway_message(m) for m in reversed(msgs)]

    async def _patch_message(self, req: Req) -> Any:
        channel = self.world.channel(req.params["channel_id"])
        msg = self._message_in(req.params["channel_id"], req.params["message_id"])
        payload = req.json or {}
        if int(msg["author"]["id"]) != self.bot_user.id or msg.get("webhook_id"):
            raise DiscordAPIError(
                403,
                50005,
                "Cannot edit a message authored by another user",
                violation=f"edit of message {msg['id']} not sent by the bot",
            )
        self._validate(payload, len(req.files), [], f"edit of message {msg['id']}")
        perms = self.world.permissions(self.bot_user.id, channel)
        self._edit(
            msg,
            payload,
            self._attachments(payload, req.files),
            can_mention_everyone=bool(perms & P.MENTION_EVERYONE),
        )
        await self._echo("MESSAGE_UPDATE", msg)
        return wire(msg)

    async def _delete_message(self, req: Req) -> Any:
        channel = self.world.channel(req.params["channel_id"])
        msg = self._message_in(req.params["channel_id"], req.params["message_id"])
        perms = self.world.permissions(self.bot_user.id, channel)
        if int(msg["author"]["id"]) != self.bot_user.id and not perms & P.MANAGE_MESSAGES:
            raise missing_permissions(
                violation=f"bot deleted message {msg['id']} without Manage Messages"
            )
        await self._remove_message(msg)
        return NO_CONTENT

    async def _remove_message(self, msg: dict[str, Any]) -> None:
        msg["_deleted"] = True
        cid = int(msg["channel_id"])
        index = self.world.channel_index.get(cid, [])
        if int(msg["id"]) in index:
            index.remove(int(msg["id"]))
        self.world.deleted_messages.append(msg)
        if self.gateway.session is not None and not msg["flags"] & FLAG_EPHEMERAL:
            data = {"id": msg["id"], "channel_id": msg["channel_id"]}
            if msg.get("guild_id"):
                data["guild_id"] = msg["guild_id"]
            await self.gateway.dispatch("MESSAGE_DELETE", data)

    async def _typing(self, req: Req) -> Any:
        channel = self.world.channel(req.params["channel_id"])
        self._bot_send_check(channel)
        self.typing.append((channel.id, time.time()))
        return NO_CONTENT

    async def _reaction(self, req: Req) -> Any:
        channel = self.world.channel(req.params["channel_id"])
        msg = self._message_in(req.params["channel_id"], req.params["message_id"])
        perms = self.world.permissions(self.bot_user.id, channel)
        if req.method == "PUT" and not perms & P.ADD_REACTIONS:
            raise missing_permissions(violation=f"bot lacks Add Reactions in #{channel.name}")
        self.reactions.append(
            {
                "method": req.method,
                "message_id": msg["id"],
                "emoji": req.params["emoji"],
                "who": req.params["who"],
            }
        )
        return NO_CONTENT

    def _check_thread_name(self, name: Any) -> str:
        if not isinstance(name, str) or not 1 <= len(name) <= THREAD_NAME_MAX:
            raise invalid_form_body(
                {
                    "name": {
                        "_errors": [
                            {
                                "code": "BASE_TYPE_BAD_LENGTH",
                                "message": f"Must be between 1 and {THREAD_NAME_MAX} in length.",
                            }
                        ]
                    }
                },
                violation=f"thread name {name!r}",
            )
        return name

    async def _announce_thread(self, thread: FakeChannel) -> dict[str, Any]:
        self.threads_created.append(thread)
        data = thread.payload()
        if self.gateway.session is not None:
            event = dict(data, newly_created=True)
            await self.gateway.dispatch("THREAD_CREATE", event)
        return data

    async def _create_thread(self, req: Req) -> Any:
        parent = self.world.channel(req.params["channel_id"])
        body = req.json or {}
        if parent.type != 0:
            raise DiscordAPIError(400, 50024, "Cannot execute action on this channel type")
        ttype = int(body.get("type") or 12)
        perms = self.world.permissions(self.bot_user.id, parent)
        need = P.CREATE_PUBLIC_THREADS if ttype == 11 else P.CREATE_PRIVATE_THREADS
        if not perms & P.VIEW_CHANNEL:
            raise missing_access(violation=f"bot cannot view #{parent.name}")
        if not perms & need:
            raise missing_permissions(
                violation=f"bot lacks Create {'Public' if ttype == 11 else 'Private'} Threads in #{parent.name}"
            )
        name = self._check_thread_name(body.get("name"))
        thread = self.world.add_thread(
            parent,
            name,
            type=ttype,
            owner_id=self.bot_user.id,
            auto_archive_duration=int(body.get("auto_archive_duration") or 1440),
        )
        return await self._announce_thread(thread)

    async def _create_thread_from_message(self, req: Req) -> Any:
        parent = self.world.channel(req.params["channel_id"])
        msg = self._message_in(req.params["channel_id"], req.params["message_id"])
        body = req.json or {}
        perms = self.world.permissions(self.bot_user.id, parent)
        if not perms & P.CREATE_PUBLIC_THREADS:
            raise missing_permissions(
                violation=f"bot lacks Create Public Threads in #{parent.name}"
            )
        if msg.get("thread"):
            raise DiscordAPIError(
                400,
                160004,
                "A thread has already been created for this message",
                violation=f"second thread on message {msg['id']}",
            )
        name = self._check_thread_name(body.get("name"))
        thread = self.world.add_thread(
            parent,
            name,
            type=11,
            owner_id=self.bot_user.id,
            thread_id=int(msg["id"]),
            auto_archive_duration=int(body.get("auto_archive_duration") or 1440),
        )
        data = await self._announce_thread(thread)
        msg["thread"] = data
        return data

    # ------------------------------------------------------------------
    # guild routes
    # ------------------------------------------------------------------
    def _check_guild(self, req: Req) -> None:
        if int(req.params["guild_id"]) != self.guild_id:
            raise unknown_guild()

    async def _get_guild(self, req: Req) -> Any:
        self._check_guild(req)
        data = self._guild_payload()
        data["approximate_member_count"] = len(self.world.guild.members)
        return data

    async def _get_guild_channels(self, req: Req) -> Any:
        self._check_guild(req)
        return [self.world.channels[c].payload() for c in self.world.guild.channel_ids]

    async def _get_guild_roles(self, req: Req) -> Any:
        self._check_guild(req)
        return [r.payload() for r in self.world.guild.roles.values()]

    async def _get_member(self, req: Req) -> Any:
        self._check_guild(req)
        member = self.world.guild.members.get(int(req.params["user_id"]))
        if member is None:
            raise unknown_member()
        return member.payload()

    # ------------------------------------------------------------------
    # interactions: callback + webhook followups
    # ------------------------------------------------------------------
    def _interaction_label(self, rec: InteractionRecord) -> str:
        kind = {2: "/", 3: "component ", 4: "autocomplete /", 5: "modal "}.get(rec.type, "")
        return f"interaction {rec.id} ({kind}{rec.name})"

    def _interaction_metadata(self, rec: InteractionRecord) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(rec.id),
            "type": rec.type,
            "user": rec.user.payload(),
            "authorizing_integration_owners": {"0": str(rec.guild_id)}
            if rec.guild_id
            else {"1": str(rec.user.id)},
        }
        if rec.type == 2:
            data["name"] = rec.name
            data["command_type"] = 1
        if rec.source_message_id is not None:
            data["interacted_message_id"] = str(rec.source_message_id)
        return data

    def _snapshot(self, rec: InteractionRecord, msg: dict[str, Any], kind: str) -> dict[str, Any]:
        snap = copy.deepcopy(msg)
        snap["_kind"] = kind
        rec.messages.append(snap)
        return snap

    def _app_perms(self, rec: InteractionRecord) -> int:
        return self.world.permissions(self.bot_user.id, self.world.channel(rec.channel_id))

    def _reject(self, rec: InteractionRecord, exc: DiscordAPIError, route: str) -> DiscordAPIError:
        rec.errors.append(
            {
                "route": route,
                "status": exc.status,
                "code": exc.code,
                "message": exc.message,
                "errors": exc.errors,
            }
        )
        return exc

    async def _callback(self, req: Req) -> Any:
        iid = int(req.params["interaction_id"])
        rec = self.interactions.get(iid)
        route = "callback"
        if rec is None or rec.token != req.params["token"] or rec.refused:
            raise unknown_interaction(violation=f"callback for unknown interaction {iid}")
        body = req.json or {}
        ctype = int(body.get("type", 0))
        data = body.get("data") or {}
        label = self._interaction_label(rec)
        attempt: dict[str, Any] = {
            "at": req.at,
            "type": ctype,
            "data": copy.deepcopy(data),
            "status": None,
        }
        rec.callbacks.append(attempt)
        if rec.first_callback_at is None:
            rec.first_callback_at = req.at
        try:
            result = await self._apply_callback(rec, req, ctype, data, label)
        except DiscordAPIError as exc:
            attempt["status"] = exc.status
            raise self._reject(rec, exc, route) from None
        attempt["status"] = 200
        return result

    async def _apply_callback(
        self, rec: InteractionRecord, req: Req, ctype: int, data: dict[str, Any], label: str
    ) -> Any:
        if rec.acknowledged:
            raise already_acknowledged(
                violation=f"{label}: second callback (type {ctype} {CALLBACK_NAMES.get(ctype, '?')}) "
                f"after type {rec.callback_type}"
            )
        elapsed = req.at - rec.dispatched_at
        if elapsed > self.ack_window:
            raise unknown_interaction(
                violation=f"{label}: callback type {ctype} after {elapsed:.2f}s "
                f"(limit {self.ack_window:.1f}s)"
            )
        allowed = {
            2: {4, 5, 9},
            3: {4, 5, 6, 7, 9},
            4: {8},
            5: {4, 5, 6, 7},
        }.get(rec.type, set())
        if ctype not in allowed:
            raise invalid_form_body(
                {
                    "type": {
                        "_errors": [
                            {
                                "code": "INTERACTION_RESPONSE_TYPE_INVALID",
                                "message": f"Interaction response type {ctype} is not valid "
                                f"for interaction type {rec.type}",
                            }
                        ]
                    }
                },
                violation=f"{label}: callback type {ctype} not allowed for interaction type {rec.type}",
            )
        channel = self.world.channel(rec.channel_id)
        app_perms = self._app_perms(rec)
        can_everyone = bool(app_perms & P.MENTION_EVERYONE)
        message: dict[str, Any] | None = None
        if ctype in (4, 7):
            self._validate(data, len(req.files), ["data"], f"{label}: callback type {ctype}")
        if ctype == 4:
            attachments = self._attachments(data, req.files)
            if is_empty_message({**data, "attachments": attachments}):
                raise DiscordAPIError(
                    400,
                    50006,
                    "Cannot send an empty message",
                    violation=f"{label}: empty initial response",
                )
            message = self._new_message(
                channel=channel,
                author=self.bot_user,
                payload=data,
                attachments=attachments,
                source="interaction",
                msg_type=20 if rec.type == 2 else 0,
                webhook_id=self.application_id,
                interaction_metadata=self._interaction_metadata(rec),
                can_mention_everyone=can_everyone,
            )
            message["_interaction_id"] = str(rec.id)
            rec.original_message_id = int(message["id"])
            self._snapshot(rec, message, "initial")
            await self._echo("MESSAGE_CREATE", message)
        elif ctype == 5:
            flags = FLAG_LOADING | (int(data.get("flags") or 0) & FLAG_EPHEMERAL)
            message = self._new_message(
                channel=channel,
                author=self.bot_user,
                payload={"content": ""},
                attachments=[],
                source="interaction",
                msg_type=20 if rec.type == 2 else 0,
                webhook_id=self.application_id,
                interaction_metadata=self._interaction_metadata(rec),
                can_mention_everyone=can_everyone,
                flags=flags,
            )
            message["_interaction_id"] = str(rec.id)
            rec.original_message_id = int(message["id"])
            rec.original_loading = True
            self._snapshot(rec, message, "deferred")
            await self._echo("MESSAGE_CREATE", message)
        elif ctype in (6, 7):
            if rec.source_message_id is None:
                raise unknown_message()
            rec.original_message_id = rec.source_message_id
            if ctype == 7:
                message = self.world.messages[rec.source_message_id]
                self._edit(
                    message,
                    data,
                    self._attachments(data, req.files),
                    can_mention_everyone=can_everyone,
                )
                self._snapshot(rec, message, "update")
                await self._echo("MESSAGE_UPDATE", message)
        elif ctype == 8:
            errors = validate_autocomplete_choices(data)
            if errors:
                raise invalid_form_body(errors, violation=f"{label}: invalid autocomplete choices")
            rec.choices = list(data.get("choices") or [])
        elif ctype == 9:
            title = data.get("title")
            if not data.get("custom_id") or not isinstance(title, str) or not 1 <= len(title) <= 45:
                raise invalid_form_body(
                    {
                        "data": {
                            "title": {
                                "_errors": [
                                    {
                                        "code": "BASE_TYPE_BAD_LENGTH",
                                        "message": "Must be between 1 and 45 in length.",
                                    }
                                ]
                            }
                        }
                    },
                    violation=f"{label}: invalid modal",
                )
            rec.modal = copy.deepcopy(data)
        rec.acknowledged_at = req.at
        rec.callback_type = ctype
        if "with_response" not in req.query:
            return NO_CONTENT
        interaction: dict[str, Any] = {"id": str(rec.id), "type": rec.type}
        resource: dict[str, Any] = {"type": ctype}
        if message is not None and ctype in (4, 5):
            interaction["response_message_id"] = message["id"]
            interaction["response_message_loading"] = ctype == 5
            interaction["response_message_ephemeral"] = bool(message["flags"] & FLAG_EPHEMERAL)
        if message is not None:
            resource["message"] = wire(message)
        return {"interaction": interaction, "resource": resource}

    def _webhook_rec(self, req: Req, what: str) -> InteractionRecord:
        rec = self._by_token.get(req.params["token"])
        if rec is None or int(req.params["app_id"]) != self.application_id:
            raise unknown_webhook(violation=f"{what} with an unknown interaction token")
        label = self._interaction_label(rec)
        if not rec.acknowledged:
            raise self._reject(
                rec,
                unknown_webhook(
                    violation=f"{label}: {what} before the interaction was acknowledged"
                ),
                what,
            )
        if time.time() - rec.dispatched_wall > self.token_lifetime:
            raise self._reject(
                rec,
                DiscordAPIError(
                    401,
                    50027,
                    "Invalid Webhook Token",
                    violation=f"{label}: {what} after the token expired",
                ),
                what,
            )
        return rec

    def _webhook_message(self, rec: InteractionRecord, message_id: str) -> dict[str, Any]:
        if message_id == "@original":
            if rec.original_message_id is None:
                raise unknown_message()
            mid = rec.original_message_id
        else:
            mid = int(message_id)
            if mid != rec.original_message_id and mid not in rec.followup_ids:
                raise unknown_message()
        msg = self.world.messages.get(mid)
        if msg is None or msg.get("_deleted"):
            raise unknown_message()
        return msg

    async def _followup(self, req: Req) -> Any:
        rec = self._webhook_rec(req, "followup")
        label = self._interaction_label(rec)
        payload = req.json or {}
        app_perms = self._app_perms(rec)
        can_everyone = bool(app_perms & P.MENTION_EVERYONE)
        try:
            self._validate(payload, len(req.files), [], f"{label}: followup")
            attachments = self._attachments(payload, req.files)
            if is_empty_message({**payload, "attachments": attachments}):
                raise DiscordAPIError(
                    400, 50006, "Cannot send an empty message", violation=f"{label}: empty followup"
                )
            if rec.original_loading and rec.original_message_id is not None:
                # The first followup after a "thinking" defer replaces the loading message
                # (keeping the defer's ephemeral flag). Like an edit, it does not notify.
                msg = self.world.messages[rec.original_message_id]
                self._edit(
                    msg,
                    payload,
                    attachments,
                    can_mention_everyone=can_everyone,
                    completes_defer=True,
                )
                rec.original_loading = False
                self._snapshot(rec, msg, "followup")
                await self._echo("MESSAGE_UPDATE", msg)
            else:
                msg = self._new_message(
                    channel=self.world.channel(rec.channel_id),
                    author=self.bot_user,
                    payload=payload,
                    attachments=attachments,
                    source="interaction",
                    msg_type=0,
                    webhook_id=self.application_id,
                    interaction_metadata=self._interaction_metadata(rec),
                    can_mention_everyone=can_everyone,
                )
                msg["_interaction_id"] = str(rec.id)
                rec.followup_ids.append(int(msg["id"]))
                self._snapshot(rec, msg, "followup")
                await self._echo("MESSAGE_CREATE", msg)
        except DiscordAPIError as exc:
            raise self._reject(rec, exc, "followup") from None
        if req.query.get("wait", "false").lower() in ("true", "1"):
            return wire(msg)
        return NO_CONTENT

    async def _get_webhook_message(self, req: Req) -> Any:
        rec = self._webhook_rec(req, "get message")
        try:
            return wire(self._webhook_message(rec, req.params["message_id"]))
        except DiscordAPIError as exc:
            raise self._reject(rec, exc, "get message") from None

    async def _edit_webhook_message(self, req: Req) -> Any:
        rec = self._webhook_rec(req, "edit message")
        label = self._interaction_label(rec)
        payload = req.json or {}
        try:
            msg = self._webhook_message(rec, req.params["message_id"])
            self._validate(payload, len(req.files), [], f"{label}: edit of message {msg['id']}")
            completes = rec.original_loading and int(msg["id"]) == rec.original_message_id
            self._edit(
                msg,
                payload,
                self._attachments(payload, req.files),
                can_mention_everyone=bool(self._app_perms(rec) & P.MENTION_EVERYONE),
                completes_defer=completes,
            )
            if completes:
                rec.original_loading = False
            self._snapshot(rec, msg, "edit")
            await self._echo("MESSAGE_UPDATE", msg)
        except DiscordAPIError as exc:
            raise self._reject(rec, exc, "edit message") from None
        return wire(msg)

    async def _delete_webhook_message(self, req: Req) -> Any:
        rec = self._webhook_rec(req, "delete message")
        try:
            msg = self._webhook_message(rec, req.params["message_id"])
        except DiscordAPIError as exc:
            raise self._reject(rec, exc, "delete message") from None
        self._snapshot(rec, msg, "delete")
        if int(msg["id"]) == rec.original_message_id:
            rec.original_loading = False
        await self._remove_message(msg)
        return NO_CONTENT

    # ------------------------------------------------------------------
    # test-facing dispatchers
    # ------------------------------------------------------------------
    def _new_record(
        self,
        *,
        itype: int,
        name: str | None,
        user: FakeUser,
        channel: FakeChannel,
        payload: dict[str, Any] | None,
        refused: str | None = None,
        source_message_id: int | None = None,
    ) -> InteractionRecord:
        rec = InteractionRecord(
            id=self.ids.next(),
            token="aW50ZXJhY3Rpb24" + secrets.token_urlsafe(48),
            type=itype,
            name=name,
            user=user,
            channel_id=channel.id,
            guild_id=channel.guild_id,
            payload=payload,
            notifier=self.notifier,
            loop_time=asyncio.get_running_loop().time(),
            refused=refused,
            source_message_id=source_message_id,
        )
        self.interactions[rec.id] = rec
        self._by_token[rec.token] = rec
        return rec

    def _interaction_envelope(
        self, rec: InteractionRecord, channel: FakeChannel, locale: str
    ) -> dict[str, Any]:
        user = rec.user
        app_perms = self.world.permissions(self.bot_user.id, channel)
        payload: dict[str, Any] = {
            "id": str(rec.id),
            "application_id": str(self.application_id),
            "type": rec.type,
            "token": rec.token,
            "version": 1,
            "channel_id": str(channel.id),
            "locale": locale,
            "app_permissions": str(app_perms),
            "entitlements": [],
            "entitlement_sku_ids": [],
            "attachment_size_limit": self.attachment_size_limit,
        }
        channel_data = channel.payload()
        if channel.guild_id is not None:
            member = self.world.guild.members[user.id]
            perms = self.world.permissions(user.id, channel)
            channel_data["permissions"] = str(perms)
            payload.update(
                {
                    "guild_id": str(channel.guild_id),
                    "guild": {
                        "id": str(channel.guild_id),
                        "locale": self.world.guild.locale,
                        "features": [],
                    },
                    "guild_locale": self.world.guild.locale,
                    "member": member.payload(permissions=perms),
                    "authorizing_integration_owners": {"0": str(channel.guild_id)},
                    "context": 0,
                }
            )
        else:
            payload.update(
                {
                    "user": user.payload(),
                    "authorizing_integration_owners": {"0": str(user.id)},
                    "context": 1,
                }
            )
        payload["channel"] = channel_data
        return payload

    def _resolve_target(
        self, user: FakeUser | None, channel: FakeChannel | int | None, guild: bool
    ) -> tuple[FakeUser, FakeChannel]:
        user = user or self.member
        if channel is None:
            ch = self.general if guild else self.world.dm_channel(user)
        else:
            ch = channel if isinstance(channel, FakeChannel) else self.world.channel(channel)
        if guild and ch.guild_id is None:
            raise ValueError("guild=True but the channel is a DM")
        if ch.guild_id is not None and user.id not in self.world.guild.members:
            raise ValueError(f"{user.username} is not a member of the guild")
        return user, ch

    def _gate(
        self, command: dict[str, Any], user: FakeUser, channel: FakeChannel, bypass: bool
    ) -> str | None:
        """Why Discord would not show/run this command for ``user`` here (None if it would)."""
        if channel.guild_id is None:
            contexts = command.get("contexts")
            if command.get("dm_permission") is False or (
                contexts is not None and 1 not in contexts
            ):
                return f"/{command['name']} is not available in DMs"
            return None
        contexts = command.get("contexts")
        if contexts is not None and 0 not in contexts:
            return f"/{command['name']} is not available in servers (contexts={contexts})"
        if command.get("nsfw") and not channel.nsfw:
            return f"/{command['name']} is age-restricted and #{channel.name} is not"
        perms_here = self.world.permissions(user.id, channel)
        if not perms_here & P.VIEW_CHANNEL:
            return f"{user.username} cannot view #{channel.name}"
        if not perms_here & P.USE_APPLICATION_COMMANDS:
            return f"{user.username} lacks Use Application Commands in #{channel.name}"
        dmp = command.get("default_member_permissions")
        if dmp is None or bypass:
            return None
        required = int(dmp)
        base = self.world.guild.base_permissions(user.id)
        if base & P.ADMINISTRATOR:
            return None
        if required == 0 or base & required != required:
            return (
                f"{user.username} lacks default_member_permissions={required} for "
                f"/{command['name']} (Discord hides the command; pass "
                "bypass_permission_gate=True to simulate an Integrations override)"
            )
        return None

    async def _deliver(self, rec: InteractionRecord) -> InteractionRecord:
        assert rec.payload is not None
        rec.dispatched_at = asyncio.get_running_loop().time()
        rec.dispatched_wall = time.time()
        await self.gateway.dispatch("INTERACTION_CREATE", rec.payload)
        return rec

    async def dispatch_slash(
        self,
        name: str,
        options: Mapping[str, Any] | None = None,
        *,
        user: FakeUser | None = None,
        channel: FakeChannel | int | None = None,
        subcommand: str | None = None,
        guild: bool = True,
        bypass_permission_gate: bool = False,
        locale: str = "en-US",
    ) -> InteractionRecord:
        """Invoke a synced slash command as ``user`` (default: the ordinary member).

        ``subcommand`` is ``"sub"`` or ``"group sub"``. Raises ``LookupError`` if the bot
        never synced ``name``. Returns a refused record (``rec.refused``) without
        delivering anything when Discord would not let the user run it.
        """
        user, ch = self._resolve_target(user, channel, guild)
        command = self._find_command(name, 1, in_guild=ch.guild_id is not None)
        refused = self._gate(command, user, ch, bypass_permission_gate)
        if refused:
            return self._new_record(
                itype=2, name=name, user=user, channel=ch, payload=None, refused=refused
            )
        builder = OptionBuilder(
            self.world,
            command,
            invoker_id=user.id,
            channel=ch,
            store_attachment=self.store_attachment,
        )
        opts = builder.build(options, subcommand)
        rec = self._new_record(itype=2, name=name, user=user, channel=ch, payload=None)
        data: dict[str, Any] = {"id": command["id"], "name": name, "type": 1}
        if opts:
            data["options"] = opts
        if builder.resolved:
            data["resolved"] = builder.resolved
        if command.get("guild_id"):
            data["guild_id"] = command["guild_id"]
        payload = self._interaction_envelope(rec, ch, locale)
        payload["data"] = data
        rec.payload = payload
        return await self._deliver(rec)

    async def dispatch_autocomplete(
        self,
        name: str,
        options: Mapping[str, Any],
        *,
        focused: str,
        user: FakeUser | None = None,
        channel: FakeChannel | int | None = None,
        subcommand: str | None = None,
        guild: bool = True,
        locale: str = "en-US",
    ) -> InteractionRecord:
        """Send an autocomplete interaction (type 4); ``options[focused]`` is the typed text."""
        user, ch = self._resolve_target(user, channel, guild)
        command = self._find_command(name, 1, in_guild=ch.guild_id is not None)
        refused = self._gate(command, user, ch, False)
        if refused:
            return self._new_record(
                itype=4, name=name, user=user, channel=ch, payload=None, refused=refused
            )
        builder = OptionBuilder(
            self.world,
            command,
            invoker_id=user.id,
            channel=ch,
            store_attachment=self.store_attachment,
        )
        if focused not in options:
            raise ValueError(f"focused option {focused!r} must be in options")
        opts = builder.build(options, subcommand, focused=focused)
        rec = self._new_record(itype=4, name=name, user=user, channel=ch, payload=None)
        data: dict[str, Any] = {"id": command["id"], "name": name, "type": 1, "options": opts}
        if command.get("guild_id"):
            data["guild_id"] = command["guild_id"]
        payload = self._interaction_envelope(rec, ch, locale)
        payload["data"] = data
        rec.payload = payload
        return await self._deliver(rec)

    async def dispatch_component(
        self,
        message: dict[str, Any] | int | str,
        custom_id: str,
        user: FakeUser | None = None,
        *,
        values: list[str] | None = None,
        locale: str = "en-US",
    ) -> InteractionRecord:
        """Click a button / pick select values on a stored message (interaction type 3)."""
        mid = int(message["id"]) if isinstance(message, dict) else int(message)
        msg = self.world.messages.get(mid)
        if msg is None or msg.get("_deleted"):
            raise ValueError(f"unknown message {mid}")
        comp = find_component(msg.get("components") or [], custom_id)
        if comp is None:
            raise ValueError(f"message {mid} has no component with custom_id {custom_id!r}")
        if comp.get("disabled"):
            raise ValueError(f"component {custom_id!r} is disabled; a user cannot click it")
        user, ch = self._resolve_target(
            user, int(msg["channel_id"]), msg.get("guild_id") is not None
        )
        rec = self._new_record(
            itype=3, name=custom_id, user=user, channel=ch, payload=None, source_message_id=mid
        )
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": comp.get("type", 2)}
        if comp.get("type") in (3, 5, 6, 7, 8):
            data["values"] = list(values or [])
        payload = self._interaction_envelope(rec, ch, locale)
        payload["data"] = data
        payload["message"] = wire(msg)
        rec.payload = payload
        return await self._deliver(rec)

    async def dispatch_modal_submit(
        self,
        modal: InteractionRecord | dict[str, Any],
        values: Mapping[str, Any],
        *,
        user: FakeUser | None = None,
        locale: str = "en-US",
    ) -> InteractionRecord:
        """Submit the modal the bot opened (``rec`` answered with callback type 9)."""
        if isinstance(modal, InteractionRecord):
            if modal.modal is None:
                raise ValueError(f"{modal!r} did not open a modal")
            modal_data = modal.modal
            user = user or modal.user
            ch = self.world.channel(modal.channel_id)
            source = modal.source_message_id
        else:
            modal_data = modal
            ch = self.general
            source = None
        user, ch = self._resolve_target(user, ch, ch.guild_id is not None)
        rec = self._new_record(
            itype=5,
            name=modal_data["custom_id"],
            user=user,
            channel=ch,
            payload=None,
            source_message_id=source,
        )
        data = {
            "custom_id": modal_data["custom_id"],
            "components": modal_submit_components(modal_data.get("components") or [], values),
        }
        payload = self._interaction_envelope(rec, ch, locale)
        payload["data"] = data
        if source is not None:
            payload["message"] = wire(self.world.messages[source])
        rec.payload = payload
        return await self._deliver(rec)

    async def dispatch_message(
        self,
        content: str,
        author: FakeUser | None = None,
        channel: FakeChannel | int | None = None,
        reply_to: dict[str, Any] | int | str | None = None,
        *,
        mention_author: bool = True,
        embeds: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """A user posts a message (MESSAGE_CREATE); returns the stored message.

        ``<@id>``, ``<@&id>`` and ``@everyone`` in ``content`` become mentions (the last
        only if the author may mention everyone); ``reply_to`` makes it a reply that pings
        the replied author unless ``mention_author=False``.
        """
        author = author or self.member
        if channel is None:
            ch = self.general
        else:
            ch = channel if isinstance(channel, FakeChannel) else self.world.channel(channel)
        perms = self.world.permissions(author.id, ch)
        if ch.type != 1:
            need = P.SEND_MESSAGES_IN_THREADS if ch.is_thread else P.SEND_MESSAGES
            if not perms & P.VIEW_CHANNEL or not perms & need:
                raise ValueError(f"{author.username} cannot post in #{ch.name}")
        payload: dict[str, Any] = {"content": content, "embeds": embeds or []}
        if reply_to is not None:
            rid = reply_to["id"] if isinstance(reply_to, dict) else reply_to
            payload["message_reference"] = {"message_id": str(rid)}
            if not mention_author:
                payload["allowed_mentions"] = {
                    "parse": ["users", "roles", "everyone"],
                    "replied_user": False,
                }
        msg = self._new_message(
            channel=ch,
            author=author,
            payload=payload,
            attachments=[],
            source="user",
            can_mention_everyone=bool(perms & P.MENTION_EVERYONE),
        )
        await self._echo("MESSAGE_CREATE", msg)
        return msg

    async def dispatch_event(self, event: str, data: Any) -> int:
        """Send any raw DISPATCH event; returns its sequence number."""
        return await self.gateway.dispatch(event, data)

    # -- world changes that Discord would announce over the gateway ----
    async def add_member(self, username: str, *, roles: list[FakeRole] | None = None) -> FakeUser:
        user = self.world.add_member(username, roles=roles)
        if self.gateway.session is not None and self.gateway.intents & INTENT_GUILD_MEMBERS:
            data = self.world.guild.members[user.id].payload()
            data["guild_id"] = str(self.guild_id)
            await self.gateway.dispatch("GUILD_MEMBER_ADD", data)
        return user

    async def add_text_channel(self, name: str, **kwargs: Any) -> FakeChannel:
        ch = self.world.add_text_channel(name, **kwargs)
        if self.gateway.session is not None:
            await self.gateway.dispatch("CHANNEL_CREATE", ch.payload())
        return ch

    # -- gateway control (see Gateway for details) ----------------------
    async def request_reconnect(self, *, wait: bool = True, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        await self.gateway.request_reconnect(wait=wait, timeout=timeout)

    async def drop_connection(
        self,
        close_code: int | None = None,
        *,
        wait: bool = True,
        timeout: float = 10.0,  # noqa: ASYNC109
    ) -> None:
        await self.gateway.drop_connection(close_code, wait=wait, timeout=timeout)

    async def invalidate_session(
        self,
        resumable: bool = False,
        *,
        wait: bool = True,
        timeout: float = 10.0,  # noqa: ASYNC109
    ) -> None:
        await self.gateway.invalidate_session(resumable, wait=wait, timeout=timeout)
