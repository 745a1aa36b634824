"""A fake Discord API (REST + gateway on 127.0.0.1) for testing the real discord.py client.

See ``server.FakeDiscord`` for the entry point. Build bots under test with
``guild_ready_timeout=0.1`` (discord.py otherwise waits 2 s before ``on_ready``).
"""

from .errors import DiscordAPIError
from .gateway import Gateway
from .server import CommandSync, FakeDiscord, wire
from .state import (
    FakeChannel,
    FakeGuild,
    FakeMember,
    FakeRole,
    FakeUser,
    InteractionRecord,
    InteractionRefused,
    Overwrite,
    P,
)

__all__ = [
    "CommandSync",
    "DiscordAPIError",
    "FakeChannel",
    "FakeDiscord",
    "FakeGuild",
    "FakeMember",
    "FakeRole",
    "FakeUser",
    "Gateway",
    "InteractionRecord",
    "InteractionRefused",
    "Overwrite",
    "P",
    "wire",
]
