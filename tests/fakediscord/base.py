"""``FakeDiscordBase``: the state every ``FakeDiscord`` mixin works on.

The attributes are declared here (for mypy) and set by ``FakeDiscord.__init__`` in
``server.py``. The base also holds the read-only shortcuts into the world (``fake.guild``,
``fake.bot_user``, ``fake.general``, ...) and the server's URLs.
"""

from __future__ import annotations

import re
from typing import Any

from .common import CommandSync, Handler
from .gateway import Gateway
from .state import (
    FakeChannel,
    FakeGuild,
    FakeRole,
    FakeUser,
    InteractionRecord,
    Notifier,
    Snowflakes,
)
from .world import World


class FakeDiscordBase:
    """Shared state of ``FakeDiscord`` (see its ``__init__``), world shortcuts and URLs."""

    # configuration
    token: str
    ack_window: float
    token_lifetime: float
    attachment_size_limit: int
    application_flags: int
    app_name: str
    team: bool
    team_id: int
    host: str
    port: int  # the HTTP server: gateway, attachments, CDN
    rest_port: int  # the REST API, through the stamping relay (relay.py)

    # the world and the gateway
    ids: Snowflakes
    world: World
    notifier: Notifier
    gateway: Gateway

    # records for assertions
    violations: list[str]
    unknown_routes: list[str]
    server_errors: list[str]
    requests: list[dict[str, Any]]
    command_syncs: list[CommandSync]
    global_commands: list[dict[str, Any]]
    guild_commands: dict[int, list[dict[str, Any]]]
    interactions: dict[int, InteractionRecord]
    _by_token: dict[str, InteractionRecord]
    typing: list[tuple[int, float]]
    reactions: list[dict[str, Any]]
    threads_created: list[FakeChannel]
    attachment_data: dict[int, bytes]

    # REST routing table: (method, path regex, handler, needs bot token)
    _routes: list[tuple[str, re.Pattern[str], Handler, bool]]

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
    # URLs
    # ------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_base(self) -> str:
        """The REST API, reached through the relay that stamps each request's arrival."""
        return f"http://{self.host}:{self.rest_port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://{self.host}:{self.port}/gateway"

    @property
    def resume_gateway_url(self) -> str:
        return f"ws://{self.host}:{self.port}/gateway-resume"
