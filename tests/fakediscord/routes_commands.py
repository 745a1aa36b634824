"""Application-command routes: bulk overwrite, list, upsert and delete, global or for the
guild, validated like Discord (``CommandRoutes`` mixin); also the lookup the dispatchers
use to find a synced command."""

from __future__ import annotations

import copy
from typing import Any

from .base import FakeDiscordBase
from .common import NO_CONTENT, CommandSync, Req
from .errors import DiscordAPIError, invalid_form_body, missing_access
from .limits import validate_commands


class CommandRoutes(FakeDiscordBase):
    """``/applications/{app_id}[/guilds/{guild_id}]/commands`` and ``_find_command``."""

    def _check_app(self, req: Req) -> None:
        if int(req.params["app_id"]) != self.application_id:
            raise DiscordAPIError(403, 50001, "Missing Access")

    def _command_scope(self, req: Req) -> tuple[int | None, list[dict[str, Any]]]:
        self._check_app(req)
        gid = req.params.get("guild_id")
        if gid is None:
            return None, self.global_commands
        if int(gid) != self.guild_id:
            raise missing_access(violation=f"command sync for guild {gid} the bot is not in")
        return int(gid), self.guild_commands.setdefault(int(gid), [])

    def _store_command(
        self, cmd: dict[str, Any], guild_id: int | None, existing: list[dict[str, Any]]
    ) -> dict[str, Any]:
        ctype = int(cmd.get("type", 1))
        prev = next(
            (c for c in existing if c["name"] == cmd.get("name") and c["type"] == ctype), None
        )
        stored: dict[str, Any] = {
            "id": prev["id"] if prev else str(self.ids.next()),
            "application_id": str(self.application_id),
            "version": str(self.ids.next()),
            "type": ctype,
            "name": cmd.get("name"),
            "name_localizations": cmd.get("name_localizations"),
            "description": cmd.get("description", ""),
            "description_localizations": cmd.get("description_localizations"),
            "options": cmd.get("options") or [],
            "default_member_permissions": cmd.get("default_member_permissions"),
            "nsfw": bool(cmd.get("nsfw", False)),
        }
        if guild_id is not None:
            stored["guild_id"] = str(guild_id)
        else:
            stored["dm_permission"] = cmd.get("dm_permission", True)
            stored["contexts"] = cmd.get("contexts")
            stored["integration_types"] = cmd.get("integration_types") or [0]
        if stored["default_member_permissions"] is not None:
            stored["default_member_permissions"] = str(stored["default_member_permissions"])
        return stored

    async def _put_commands(self, req: Req) -> Any:
        guild_id, existing = self._command_scope(req)
        body = req.json if req.json is not None else []
        scope = f"guild {guild_id}" if guild_id else "global"
        errors = validate_commands(body)
        if errors:
            raise invalid_form_body(errors, violation=f"invalid {scope} command sync")
        stored = [self._store_command(c, guild_id, existing) for c in body]
        existing[:] = stored
        self.command_syncs.append(CommandSync(guild_id, copy.deepcopy(stored)))
        return stored

    async def _get_commands(self, req: Req) -> Any:
        _, existing = self._command_scope(req)
        return existing

    async def _post_command(self, req: Req) -> Any:
        guild_id, existing = self._command_scope(req)
        errors = validate_commands([req.json or {}])
        if errors:
            raise invalid_form_body(errors.get("0", errors), violation="invalid command upsert")
        stored = self._store_command(req.json or {}, guild_id, existing)
        existing[:] = [c for c in existing if c["id"] != stored["id"]] + [stored]
        return stored

    async def _delete_command(self, req: Req) -> Any:
        _, existing = self._command_scope(req)
        before = len(existing)
        existing[:] = [c for c in existing if c["id"] != req.params["command_id"]]
        if len(existing) == before:
            raise DiscordAPIError(404, 10063, "Unknown application command")
        return NO_CONTENT

    def _find_command(self, name: str, ctype: int, in_guild: bool) -> dict[str, Any]:
        candidates: list[dict[str, Any]] = []
        if in_guild:
            candidates += self.guild_commands.get(self.guild_id, [])
        candidates += self.global_commands
        for cmd in candidates:
            if cmd["name"] == name and cmd["type"] == ctype:
                return cmd
        synced = sorted({c["name"] for c in candidates})
        raise LookupError(
            f"command {name!r} (type {ctype}) was not synced "
            f"{'for the guild or globally' if in_guild else 'globally'}; synced: {synced}"
        )
