"""Deliberate command sync: only when the command set changed, to one place.

With `DISCORD_GUILD_ID` set the commands go to that (development) guild, where
changes show at once; otherwise globally. A hash of exactly what would be sent
is kept per application and scope in `command-sync.json` in the data dir, so a
restart with unchanged commands sends nothing (Discord rate-limits command
writes). Owners can force a sync with /sync, e.g. after someone changed the
commands from another machine.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import discord
from discord import app_commands

log = logging.getLogger(__name__)

STATE_FILE = "command-sync.json"


@dataclass(frozen=True)
class SyncResult:
    scope: str
    synced: bool
    commands: int
    digest: str


class CommandSyncer:
    def __init__(self, tree: app_commands.CommandTree[Any], data_dir: Path,
                 guild_id: int | None) -> None:
        self.tree = tree
        self.path = data_dir / STATE_FILE
        self.guild = discord.Object(guild_id) if guild_id else None
        self._copied = False

    @property
    def scope(self) -> str:
        return f"guild {self.guild.id}" if self.guild else "global"

    def _prepare(self) -> None:
        if self.guild is not None and not self._copied:
            self.tree.copy_global_to(guild=self.guild)
            self._copied = True

    def payload(self) -> list[dict[str, Any]]:
        """Exactly what a sync would send, in a stable order."""
        self._prepare()
        commands = self.tree.get_commands(guild=self.guild)
        return sorted((c.to_dict(self.tree) for c in commands),
                      key=lambda d: (d.get("type", 1), d["name"]))

    def digest(self) -> str:
        body = json.dumps(self.payload(), sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(body.encode()).hexdigest()

    def _key(self) -> str:
        app = self.tree.client.application_id
        return f"{app}:{self.scope}"

    def _load(self) -> dict[str, str]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            log.warning("ignoring unreadable %s: %s", self.path, exc)
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def _store(self, digest: str) -> None:
        state = self._load()
        state[self._key()] = digest
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2, sort_keys=True), encoding="utf-8")
        os.replace(tmp, self.path)

    def needs_sync(self) -> bool:
        return self._load().get(self._key()) != self.digest()

    async def sync(self, *, force: bool = False) -> SyncResult:
        """Sync when the command set changed since the last sync (or when forced)."""
        digest = self.digest()
        count = len(self.payload())
        if not force and self._load().get(self._key()) == digest:
            log.info("commands unchanged (%s, %d commands): not syncing", self.scope, count)
            return SyncResult(self.scope, False, count, digest)
        synced = await self.tree.sync(guild=self.guild)
        self._store(digest)
        log.info("synced %d commands (%s)", len(synced), self.scope)
        return SyncResult(self.scope, True, len(synced), digest)
