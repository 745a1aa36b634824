"""Gateway payloads the fake sends on connect: READY and GUILD_CREATE (``GatewayPayloads``)."""

from __future__ import annotations

from typing import Any

from .base import FakeDiscordBase
from .common import INTENT_GUILD_MEMBERS
from .gateway import GatewaySession


class GatewayPayloads(FakeDiscordBase):
    """The bot user, READY, guild and GUILD_CREATE bodies (also used by REST routes)."""

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
