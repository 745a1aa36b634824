"""REST routes that read the guild: the guild, its channels, roles and members
(``GuildRoutes`` mixin)."""

from __future__ import annotations

from typing import Any

from .common import Req
from .errors import unknown_guild, unknown_member
from .payloads import GatewayPayloads


class GuildRoutes(GatewayPayloads):
    """``/guilds/{guild_id}/...`` (only the fake's one guild exists)."""

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
