"""Small pieces shared by ``FakeDiscord``'s mixins: the logger, gateway intent bits,
message-flag masks, ``wire`` (a stored message as Discord sends it), the parsed request
``Req`` that route handlers receive, the ``NO_CONTENT`` (204) marker and the
``CommandSync`` record."""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .limits import FLAG_COMPONENTS_V2, FLAG_EPHEMERAL, FLAG_SUPPRESS_NOTIFICATIONS

# One logger for the whole fake, under the name it has always had.
log = logging.getLogger(f"{__package__}.server")

INTENT_GUILD_MEMBERS = 1 << 1
INTENT_GUILD_MESSAGES = 1 << 9
INTENT_DIRECT_MESSAGES = 1 << 12
INTENT_MESSAGE_CONTENT = 1 << 15

# Keys kept on stored messages for tests, never sent to the bot.
INTERNAL_KEYS = frozenset(
    {"pinged", "mentioned", "_source", "_kind", "_allowed_mentions", "_interaction_id", "_deleted"}
)

MESSAGE_EDITABLE = ("content", "embeds", "components", "attachments", "poll")
# Flags a bot may set when sending: SUPPRESS_EMBEDS, EPHEMERAL, SUPPRESS_NOTIFICATIONS, IS_COMPONENTS_V2
SENDABLE_FLAGS = (1 << 2) | FLAG_EPHEMERAL | FLAG_SUPPRESS_NOTIFICATIONS | FLAG_COMPONENTS_V2


def wire(message: dict[str, Any]) -> dict[str, Any]:
    """A stored message as Discord would send it (test-only keys removed)."""
    return {k: copy.deepcopy(v) for k, v in message.items() if k not in INTERNAL_KEYS}


@dataclass
class Req:
    """A parsed REST request as handlers see it."""

    method: str
    path: str
    params: dict[str, str]
    query: Mapping[str, str]
    headers: Mapping[str, str]
    json: Any
    files: list[dict[str, Any]]
    at: float  # loop-clock time the request arrived (stamped by the relay thread)


@dataclass
class CommandSync:
    """One bulk overwrite of application commands (``guild_id`` None = global)."""

    guild_id: int | None
    commands: list[dict[str, Any]]
    at: float = field(default_factory=time.time)


Handler = Callable[[Req], Awaitable[Any]]


class NoContent:
    """Marker: answer 204."""


NO_CONTENT = NoContent()
