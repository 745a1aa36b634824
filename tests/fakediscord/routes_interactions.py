"""Interaction responses: the callback (ack window, allowed response types, one
callback only) and the webhook routes for followups and editing/deleting the original
or a followup message, all recorded on the ``InteractionRecord`` (``InteractionRoutes``)."""

from __future__ import annotations

import copy
import time
from typing import Any

from .common import NO_CONTENT, Req, wire
from .errors import (
    DiscordAPIError,
    already_acknowledged,
    invalid_form_body,
    unknown_interaction,
    unknown_message,
    unknown_webhook,
)
from .limits import (
    FLAG_EPHEMERAL,
    FLAG_LOADING,
    is_empty_message,
    validate_autocomplete_choices,
)
from .messages import MessageStore
from .state import CALLBACK_NAMES, InteractionRecord, P


class InteractionRoutes(MessageStore):
    """``/interactions/{id}/{token}/callback`` and ``/webhooks/{app_id}/{token}/...``."""

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
