"""Channel REST routes: read the channel, send/read/edit/delete messages, typing,
reactions and threads (``ChannelRoutes`` mixin)."""

from __future__ import annotations

import time
from typing import Any

from .common import NO_CONTENT, Req, wire
from .errors import (
    DiscordAPIError,
    invalid_form_body,
    missing_access,
    missing_permissions,
)
from .limits import FLAG_EPHEMERAL, THREAD_NAME_MAX, is_empty_message
from .messages import MessageStore
from .records import Records
from .state import FakeChannel, P


class ChannelRoutes(MessageStore, Records):
    """``/channels/{channel_id}/...`` as the bot uses them."""

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
