"""Assertions and waiting: violations, stored messages, command syncs (``Records`` mixin)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .base import FakeDiscordBase
from .common import log as _log
from .state import FakeChannel


class Records(FakeDiscordBase):
    """What tests read and wait on: ``violation``/``problems``, messages, command syncs."""

    def violation(self, text: str) -> None:
        _log.warning("fakediscord violation: %s", text)
        self.violations.append(text)
        self.notifier.notify()

    def problems(self) -> list[str]:
        """Violations, unknown routes and internal errors, one line each."""
        return (
            [f"violation: {v}" for v in self.violations]
            + [f"unknown route: {r}" for r in self.unknown_routes]
            + [f"server error: {e}" for e in self.server_errors]
        )

    def assert_clean(self) -> None:
        problems = self.problems()
        assert not problems, "fake Discord saw problems:\n" + "\n".join(problems)

    async def wait_until(
        self,
        predicate: Callable[[], Any],
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> Any:
        """Wait until ``predicate()`` is truthy (re-checked whenever the fake records anything)."""
        return await self.notifier.wait_until(predicate, timeout)

    def channel_messages(self, channel: FakeChannel | int) -> list[dict[str, Any]]:
        """Stored messages of a channel, oldest first (current state, with ``pinged``)."""
        cid = channel.id if isinstance(channel, FakeChannel) else int(channel)
        return [self.world.messages[m] for m in self.world.channel_index.get(cid, [])]

    def bot_messages(self, channel: FakeChannel | int | None = None) -> list[dict[str, Any]]:
        """Messages authored by the bot (channel sends, interaction responses)."""
        if channel is None:
            msgs = list(self.world.messages.values())
        else:
            msgs = self.channel_messages(channel)
        return [m for m in msgs if int(m["author"]["id"]) == self.bot_user.id]

    def message(self, message_id: int | str) -> dict[str, Any]:
        return self.world.messages[int(message_id)]

    async def wait_for_channel_message(
        self,
        channel: FakeChannel | int,
        predicate: Callable[[dict[str, Any]], bool] | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109
        *,
        after: int | dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """First stored message in ``channel`` (past or future) matching ``predicate``.

        Default predicate: authored by the bot. ``after`` (a message or id) skips older ones.
        """
        cid = channel.id if isinstance(channel, FakeChannel) else int(channel)
        floor = 0
        if isinstance(after, dict):
            floor = int(after["id"])
        elif after is not None:
            floor = int(after)
        pred = predicate or (lambda m: int(m["author"]["id"]) == self.bot_user.id)

        def check() -> dict[str, Any] | None:
            for m in self.channel_messages(cid):
                if int(m["id"]) > floor and pred(m):
                    return m
            return None

        def describe() -> str:
            msgs = [
                (m["author"]["username"], m["content"][:60]) for m in self.channel_messages(cid)
            ]
            return f"channel {cid} has {msgs}; violations={self.violations}"

        result: dict[str, Any] = await self.notifier.wait_until(check, timeout, describe)
        return result

    def sync_count(self, guild_id: int | str | None = "any") -> int:
        """Number of bulk command overwrites (``"any"`` scope, ``None`` = global, or a guild)."""
        if guild_id == "any":
            return len(self.command_syncs)
        return sum(1 for s in self.command_syncs if s.guild_id == guild_id)

    def commands(self, guild_id: int | None = None) -> list[dict[str, Any]]:
        """Currently registered commands (global when ``guild_id`` is None)."""
        if guild_id is None:
            return list(self.global_commands)
        return list(self.guild_commands.get(int(guild_id), []))
