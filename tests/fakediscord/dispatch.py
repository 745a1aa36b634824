"""Test-facing interaction dispatchers (``Dispatchers`` mixin): users run slash
commands, type into autocomplete, click components and submit modals. Messages users
post, world changes and gateway control are in ``world_events``.

Interaction dispatchers check what Discord itself would refuse (unsynced command,
contexts, NSFW, channel and ``default_member_permissions`` gates) before delivering an
INTERACTION_CREATE, and return the ``InteractionRecord`` the test then inspects.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Mapping
from typing import Any

from .common import wire
from .interactions import OptionBuilder, find_component, modal_submit_components
from .messages import MessageStore
from .routes_commands import CommandRoutes
from .state import FakeChannel, FakeUser, InteractionRecord, P


class Dispatchers(CommandRoutes, MessageStore):
    """``dispatch_slash``, ``dispatch_autocomplete``, ``dispatch_component`` and
    ``dispatch_modal_submit``."""

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

        def sent(at: float) -> None:
            # Discord's 3 s start when the interaction goes out, not when this coroutine
            # started: it may have waited for the gateway's lock behind other events. (If
            # the bot is away, the clock keeps running from creation, as on Discord.)
            rec.dispatched_at = at

        await self.gateway.dispatch("INTERACTION_CREATE", rec.payload, on_send=sent)
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
        return await self._command_interaction(
            2, name, options, subcommand, user=user, channel=channel, guild=guild,
            bypass_gate=bypass_permission_gate, locale=locale)

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
        return await self._command_interaction(
            4, name, options, subcommand, user=user, channel=channel, guild=guild,
            bypass_gate=False, locale=locale, focused=focused)

    async def _command_interaction(
        self,
        itype: int,
        name: str,
        options: Mapping[str, Any] | None,
        subcommand: str | None,
        *,
        user: FakeUser | None,
        channel: FakeChannel | int | None,
        guild: bool,
        bypass_gate: bool,
        locale: str,
        focused: str | None = None,
    ) -> InteractionRecord:
        """A slash command (type 2) or, with ``focused``, an autocomplete (type 4)
        interaction for a synced command: gated, built and delivered."""
        user, ch = self._resolve_target(user, channel, guild)
        command = self._find_command(name, 1, in_guild=ch.guild_id is not None)
        refused = self._gate(command, user, ch, bypass_gate)
        if refused:
            return self._new_record(
                itype=itype, name=name, user=user, channel=ch, payload=None, refused=refused
            )
        builder = OptionBuilder(
            self.world,
            command,
            invoker_id=user.id,
            channel=ch,
            store_attachment=self.store_attachment,
        )
        if focused is not None and focused not in (options or {}):
            raise ValueError(f"focused option {focused!r} must be in options")
        opts = builder.build(options, subcommand, focused=focused)
        rec = self._new_record(itype=itype, name=name, user=user, channel=ch, payload=None)
        data: dict[str, Any] = {"id": command["id"], "name": name, "type": 1}
        if focused is not None:
            data["options"] = opts  # autocomplete always carries the options
        else:
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
