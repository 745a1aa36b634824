"""Test-facing dispatchers (``Dispatchers`` mixin): users run slash commands, type into
autocomplete, click components, submit modals and post messages; plus world changes
Discord would announce (members, channels), raw events and gateway control.

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

from .common import INTENT_GUILD_MEMBERS, wire
from .interactions import OptionBuilder, find_component, modal_submit_components
from .messages import MessageStore
from .routes_commands import CommandRoutes
from .state import FakeChannel, FakeRole, FakeUser, InteractionRecord, P


class Dispatchers(CommandRoutes, MessageStore):
    """``dispatch_*``, ``add_member``/``add_text_channel`` and gateway control."""

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
