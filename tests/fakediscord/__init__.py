"""A fake Discord API (REST + gateway on 127.0.0.1) for testing the real discord.py client.

See ``server.FakeDiscord`` for the entry point. Build bots under test with
``guild_ready_timeout=0.1`` (discord.py otherwise waits 2 s before ``on_ready``).

Layout: ``server`` defines ``FakeDiscord`` (constructor, lifecycle, route table) from
mixins over ``base.FakeDiscordBase`` (shared state): ``records`` (assertions, waiting),
``payloads`` (READY/GUILD_CREATE), ``routing`` (request handling), ``messages`` (the
message store), the REST handlers in ``routes_users``, ``routes_guild``,
``routes_commands``, ``routes_channels`` and ``routes_interactions``, ``dispatch`` (users'
interactions) and ``world_events`` (users' messages, world changes, gateway control).
``common`` has helpers they share (``wire``, ``Req``, ...).
Beside them: ``gateway`` (the websocket), ``relay`` (a thread that REST requests pass
through, stamping when each arrived, so that acknowledgements are timed by arrival and not
by when the shared event loop got round to them), ``world`` and ``state`` (the guild model,
permissions, records), ``interactions`` (building interaction data), ``limits``
(Discord's limits and validators), ``errors`` (Discord's API errors).
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
