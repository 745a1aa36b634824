"""Test-facing world events (``WorldEvents`` mixin): a user posts a message, Discord
announces a new member or channel, a raw DISPATCH event, and gateway control
(reconnect requests, dropped connections, invalidated sessions)."""

from __future__ import annotations

from typing import Any

from .common import INTENT_GUILD_MEMBERS
from .messages import MessageStore
from .state import FakeChannel, FakeRole, FakeUser, P


class WorldEvents(MessageStore):
    """``dispatch_message``, ``dispatch_event``, ``add_member``/``add_text_channel`` and
    gateway control."""

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
