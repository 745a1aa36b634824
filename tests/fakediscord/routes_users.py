"""REST routes for users, DM channels, the application and gateway discovery
(``UserRoutes`` mixin)."""

from __future__ import annotations

from typing import Any

from .common import Req
from .errors import DiscordAPIError
from .payloads import GatewayPayloads
from .state import FakeUser


class UserRoutes(GatewayPayloads):
    """``/users/...``, ``/applications/@me``, ``/gateway`` and ``/gateway/bot``."""

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
