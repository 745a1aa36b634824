"""The message store's shared machinery (``MessageStore`` mixin): uploads and attachment
serving, validation, mentions, creating/editing/removing stored messages, what the bot
may see and send, and echoing message events over the gateway.

Used by the channel routes, the interaction routes and the test-facing dispatchers.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from aiohttp import web

from .base import FakeDiscordBase
from .common import (
    INTENT_DIRECT_MESSAGES,
    INTENT_GUILD_MESSAGES,
    INTENT_MESSAGE_CONTENT,
    SENDABLE_FLAGS,
    wire,
)
from .errors import (
    DiscordAPIError,
    invalid_form_body,
    missing_access,
    missing_permissions,
    unknown_message,
)
from .limits import FLAG_EPHEMERAL, FLAG_LOADING, is_empty_message, validate_message
from .state import FakeChannel, FakeUser, P, compute_mentions, iso_now, notifies

_PNG_1X1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000b49444154789c6360000200000500017a5eab3f0000000049454e44ae426082"
)


class MessageStore(FakeDiscordBase):
    """Creating, editing and deleting stored messages the way Discord would."""

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
