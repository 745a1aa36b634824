"""Models of the fake guild (users, roles, members, channels), permission math,
mention computation, and the records tests inspect (``InteractionRecord``)."""

from __future__ import annotations

import asyncio
import datetime as _dt
import itertools
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .limits import FLAG_EPHEMERAL, FLAG_LOADING, FLAG_SUPPRESS_NOTIFICATIONS

DISCORD_EPOCH_MS = 1420070400000


class P:
    """Permission bits (https://discord.com/developers/docs/topics/permissions)."""

    CREATE_INSTANT_INVITE = 1 << 0
    KICK_MEMBERS = 1 << 1
    BAN_MEMBERS = 1 << 2
    ADMINISTRATOR = 1 << 3
    MANAGE_CHANNELS = 1 << 4
    MANAGE_GUILD = 1 << 5
    ADD_REACTIONS = 1 << 6
    VIEW_AUDIT_LOG = 1 << 7
    PRIORITY_SPEAKER = 1 << 8
    STREAM = 1 << 9
    VIEW_CHANNEL = 1 << 10
    SEND_MESSAGES = 1 << 11
    SEND_TTS_MESSAGES = 1 << 12
    MANAGE_MESSAGES = 1 << 13
    EMBED_LINKS = 1 << 14
    ATTACH_FILES = 1 << 15
    READ_MESSAGE_HISTORY = 1 << 16
    MENTION_EVERYONE = 1 << 17
    USE_EXTERNAL_EMOJIS = 1 << 18
    CONNECT = 1 << 20
    SPEAK = 1 << 21
    USE_VAD = 1 << 25
    CHANGE_NICKNAME = 1 << 26
    MANAGE_NICKNAMES = 1 << 27
    MANAGE_ROLES = 1 << 28
    MANAGE_WEBHOOKS = 1 << 29
    USE_APPLICATION_COMMANDS = 1 << 31
    MANAGE_THREADS = 1 << 34
    CREATE_PUBLIC_THREADS = 1 << 35
    CREATE_PRIVATE_THREADS = 1 << 36
    USE_EXTERNAL_STICKERS = 1 << 37
    SEND_MESSAGES_IN_THREADS = 1 << 38
    MODERATE_MEMBERS = 1 << 40
    ALL = (1 << 53) - 1

    # Roughly what a new server's @everyone role gets.
    EVERYONE_DEFAULT = (
        CREATE_INSTANT_INVITE
        | ADD_REACTIONS
        | STREAM
        | VIEW_CHANNEL
        | SEND_MESSAGES
        | EMBED_LINKS
        | ATTACH_FILES
        | READ_MESSAGE_HISTORY
        | MENTION_EVERYONE
        | USE_EXTERNAL_EMOJIS
        | CONNECT
        | SPEAK
        | USE_VAD
        | CHANGE_NICKNAME
        | USE_APPLICATION_COMMANDS
        | CREATE_PUBLIC_THREADS
        | CREATE_PRIVATE_THREADS
        | USE_EXTERNAL_STICKERS
        | SEND_MESSAGES_IN_THREADS
    )


class Snowflakes:
    """Time-based snowflakes, as Discord makes them (discord.py reads created_at from ids)."""

    def __init__(self) -> None:
        self._counter = itertools.count()

    def next(self) -> int:
        ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        return (ms << 22) | (1 << 17) | (next(self._counter) & 0xFFF)


def iso_now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat()


@dataclass
class FakeUser:
    id: int
    username: str
    global_name: str | None = None
    bot: bool = False

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "username": self.username,
            "discriminator": "0",
            "global_name": self.global_name,
            "avatar": None,
            "banner": None,
            "accent_color": None,
            "public_flags": 0,
            "flags": 0,
            "avatar_decoration_data": None,
            "primary_guild": None,
            "collectibles": None,
        }
        if self.bot:
            data["bot"] = True
        return data


@dataclass
class FakeRole:
    id: int
    name: str
    permissions: int
    position: int = 0
    mentionable: bool = False
    managed: bool = False
    bot_id: int | None = None
    hoist: bool = False

    @property
    def mention(self) -> str:
        return f"<@&{self.id}>"

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "name": self.name,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": self.hoist,
            "icon": None,
            "unicode_emoji": None,
            "position": self.position,
            "permissions": str(self.permissions),
            "managed": self.managed,
            "mentionable": self.mentionable,
            "flags": 0,
        }
        if self.bot_id is not None:
            data["tags"] = {"bot_id": str(self.bot_id)}
        return data


@dataclass
class FakeMember:
    user: FakeUser
    roles: list[int] = field(default_factory=list)
    nick: str | None = None
    joined_at: str = field(default_factory=iso_now)

    def payload(self, *, with_user: bool = True, permissions: int | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "roles": [str(r) for r in self.roles],
            "nick": self.nick,
            "avatar": None,
            "banner": None,
            "joined_at": self.joined_at,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,
            "communication_disabled_until": None,
        }
        if with_user:
            data["user"] = self.user.payload()
        if permissions is not None:
            data["permissions"] = str(permissions)
        return data


@dataclass
class Overwrite:
    """A channel permission overwrite; ``type`` 0 = role, 1 = member."""

    id: int
    type: int
    allow: int = 0
    deny: int = 0

    def payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "type": self.type,
            "allow": str(self.allow),
            "deny": str(self.deny),
        }


@dataclass
class FakeChannel:
    id: int
    name: str
    type: int = 0  # 0 text, 1 DM, 11 public thread, 12 private thread
    guild_id: int | None = None
    position: int = 0
    overwrites: list[Overwrite] = field(default_factory=list)
    parent_id: int | None = None
    topic: str | None = None
    nsfw: bool = False
    owner_id: int | None = None  # threads
    recipients: list[FakeUser] = field(default_factory=list)  # DMs
    archived: bool = False
    auto_archive_duration: int = 1440
    message_count: int = 0
    created_at: str = field(default_factory=iso_now)

    @property
    def is_thread(self) -> bool:
        return self.type in (10, 11, 12)

    @property
    def mention(self) -> str:
        return f"<#{self.id}>"

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": str(self.id), "type": self.type}
        if self.type == 1:
            data.update(
                {
                    "last_message_id": None,
                    "recipients": [u.payload() for u in self.recipients],
                    "flags": 0,
                }
            )
            return data
        data.update(
            {
                "name": self.name,
                "guild_id": str(self.guild_id),
                "flags": 0,
                "last_message_id": None,
                "rate_limit_per_user": 0,
                "nsfw": self.nsfw,
            }
        )
        if self.is_thread:
            data.update(
                {
                    "parent_id": str(self.parent_id),
                    "owner_id": str(self.owner_id),
                    "message_count": self.message_count,
                    "member_count": 1,
                    "total_message_sent": self.message_count,
                    "thread_metadata": {
                        "archived": self.archived,
                        "auto_archive_duration": self.auto_archive_duration,
                        "archive_timestamp": self.created_at,
                        "locked": False,
                        "create_timestamp": self.created_at,
                    },
                }
            )
        else:
            data.update(
                {
                    "position": self.position,
                    "permission_overwrites": [o.payload() for o in self.overwrites],
                    "parent_id": str(self.parent_id) if self.parent_id else None,
                    "topic": self.topic,
                    "default_auto_archive_duration": 1440,
                }
            )
        return data


@dataclass
class FakeGuild:
    id: int
    name: str
    owner_id: int
    roles: dict[int, FakeRole] = field(default_factory=dict)
    members: dict[int, FakeMember] = field(default_factory=dict)
    channel_ids: list[int] = field(default_factory=list)
    locale: str = "en-US"

    @property
    def everyone_role(self) -> FakeRole:
        return self.roles[self.id]

    def base_permissions(self, user_id: int) -> int:
        """Guild-level permissions (roles only, no channel overwrites)."""
        if user_id == self.owner_id:
            return P.ALL
        member = self.members.get(user_id)
        perms = self.everyone_role.permissions
        if member is not None:
            for rid in member.roles:
                role = self.roles.get(rid)
                if role is not None:
                    perms |= role.permissions
        if perms & P.ADMINISTRATOR:
            return P.ALL
        return perms

    def channel_permissions(self, user_id: int, channel: FakeChannel) -> int:
        """Discord's permission algorithm: base, then @everyone, role and member overwrites."""
        base = self.base_permissions(user_id)
        if base & P.ADMINISTRATOR or user_id == self.owner_id:
            return P.ALL
        perms = base
        member = self.members.get(user_id)
        role_ids = set(member.roles) if member else set()
        overwrites = channel.overwrites
        for ow in overwrites:
            if ow.type == 0 and ow.id == self.id:
                perms = (perms & ~ow.deny) | ow.allow
        allow = deny = 0
        for ow in overwrites:
            if ow.type == 0 and ow.id in role_ids:
                allow |= ow.allow
                deny |= ow.deny
        perms = (perms & ~deny) | allow
        for ow in overwrites:
            if ow.type == 1 and ow.id == user_id:
                perms = (perms & ~ow.deny) | ow.allow
        if not perms & P.VIEW_CHANNEL:
            return 0
        if not perms & P.SEND_MESSAGES:
            perms &= ~(P.SEND_TTS_MESSAGES | P.MENTION_EVERYONE | P.EMBED_LINKS | P.ATTACH_FILES)
        return perms


_USER_MENTION = re.compile(r"<@!?(\d+)>")
_ROLE_MENTION = re.compile(r"<@&(\d+)>")


@dataclass
class MentionResult:
    users: list[int]
    roles: list[int]
    everyone: bool
    here: bool
    # What would be notified: user ids (int), "role:<id>", "everyone", "here".
    mentioned: list[int | str]


def compute_mentions(
    content: str | None,
    allowed: dict[str, Any] | None,
    *,
    guild: FakeGuild | None,
    author_id: int,
    author_can_mention_everyone: bool,
    replied_user_id: int | None,
) -> MentionResult:
    """What a message mentions after Discord applies ``allowed_mentions``.

    Without ``allowed_mentions`` Discord parses everything and a reply pings the replied
    user; with it, only ``parse`` kinds or listed ids are mentioned, and the replied user
    only when ``replied_user`` is true. ``@everyone``/``@here`` and non-mentionable roles
    also need the author's Mention Everyone permission in the channel.
    """
    text = content or ""
    if allowed is None:
        parse = {"users", "roles", "everyone"}
        allowed_users: set[int] = set()
        allowed_roles: set[int] = set()
        replied = True
    else:
        parse = set(allowed.get("parse") or [])
        allowed_users = {int(x) for x in allowed.get("users") or []}
        allowed_roles = {int(x) for x in allowed.get("roles") or []}
        replied = bool(allowed.get("replied_user", False))
    users: list[int] = []
    for m in _USER_MENTION.finditer(text):
        uid = int(m.group(1))
        if uid in users:
            continue
        if "users" in parse or uid in allowed_users:
            users.append(uid)
    if replied_user_id is not None and replied and replied_user_id not in users:
        users.append(replied_user_id)
    roles: list[int] = []
    for m in _ROLE_MENTION.finditer(text):
        rid = int(m.group(1))
        role = guild.roles.get(rid) if guild else None
        if role is None or rid in roles:
            continue
        if ("roles" in parse or rid in allowed_roles) and (
            role.mentionable or author_can_mention_everyone
        ):
            roles.append(rid)
    can_everyone = guild is not None and "everyone" in parse and author_can_mention_everyone
    everyone = can_everyone and "@everyone" in text
    here = can_everyone and "@here" in text
    mentioned: list[int | str] = [u for u in users if u != author_id]
    mentioned += [f"role:{r}" for r in roles]
    if everyone:
        mentioned.append("everyone")
    if here:
        mentioned.append("here")
    return MentionResult(users, roles, everyone, here, mentioned)


class Notifier:
    """Wakes waiters whenever something recorded changes."""

    poll_interval = 0.02

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait_until(
        self,
        check: Callable[[], Any],
        timeout: float,  # noqa: ASYNC109
        describe: Callable[[], str] | None = None,
    ) -> Any:
        """Return the first truthy ``check()`` result, re-checking on every notify."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = check()
            if result:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                detail = describe() if describe else ""
                raise TimeoutError(f"timed out after {timeout}s{': ' + detail if detail else ''}")
            # Also poll: predicates may look at state outside the fake (e.g. the bot's).
            event = self._event
            try:
                await asyncio.wait_for(event.wait(), min(remaining, self.poll_interval))
            except TimeoutError:
                continue


class InteractionRefused(Exception):
    """Raised by ``InteractionRecord.wait_*`` when the fake refused to deliver it."""


# Interaction callback types
CALLBACK_NAMES = {
    1: "PONG",
    4: "CHANNEL_MESSAGE_WITH_SOURCE",
    5: "DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE",
    6: "DEFERRED_UPDATE_MESSAGE",
    7: "UPDATE_MESSAGE",
    8: "APPLICATION_COMMAND_AUTOCOMPLETE_RESULT",
    9: "MODAL",
}


class InteractionRecord:
    """Everything the bot did in answer to one dispatched interaction.

    ``messages`` holds snapshots (dicts in Discord's message shape plus a ``_kind`` of
    ``"initial"``, ``"deferred"``, ``"followup"``, ``"edit"``, ``"update"`` or
    ``"delete"``) in the order the bot produced them.
    """

    def __init__(
        self,
        *,
        id: int,
        token: str,
        type: int,
        name: str | None,
        user: FakeUser,
        channel_id: int,
        guild_id: int | None,
        payload: dict[str, Any] | None,
        notifier: Notifier,
        loop_time: float,
        refused: str | None = None,
        source_message_id: int | None = None,
    ) -> None:
        self.id = id
        self.token = token
        self.type = type
        self.name = name
        self.user = user
        self.channel_id = channel_id
        self.guild_id = guild_id
        self.payload = payload
        # Loop-clock time the INTERACTION_CREATE went out to the bot's socket (or, if the
        # bot was away, when it was created). Callbacks are timed from here to their
        # arrival, stamped by the relay thread (``relay.py``).
        self.dispatched_at = loop_time
        self.dispatched_wall = time.time()
        self.refused = refused is not None
        self.refusal_reason = refused
        self.source_message_id = source_message_id
        self.first_callback_at: float | None = None
        self.acknowledged_at: float | None = None
        self.callback_type: int | None = None
        self.callbacks: list[dict[str, Any]] = []
        self.messages: list[dict[str, Any]] = []
        self.errors: list[dict[str, Any]] = []
        self.original_message_id: int | None = None
        self.original_loading = False
        self.followup_ids: list[int] = []
        self.choices: list[dict[str, Any]] | None = None
        self.modal: dict[str, Any] | None = None
        self._notifier = notifier

    def __repr__(self) -> str:
        return (
            f"<InteractionRecord id={self.id} type={self.type} name={self.name!r} "
            f"refused={self.refused} callback={self.callback_type} "
            f"messages={len(self.messages)} errors={len(self.errors)}>"
        )

    # -- derived ---------------------------------------------------------
    @property
    def acknowledged(self) -> bool:
        return self.acknowledged_at is not None

    @property
    def ack_latency(self) -> float | None:
        """Seconds from dispatch to the first callback request (accepted or not)."""
        if self.first_callback_at is None:
            return None
        return self.first_callback_at - self.dispatched_at

    @property
    def replies(self) -> list[dict[str, Any]]:
        """Snapshots that show something to the user (not the "thinking" placeholder)."""
        return [m for m in self.messages if is_visible_reply(m)]

    def describe(self) -> str:
        return (
            f"{self!r}; callbacks={[c['type'] for c in self.callbacks]} "
            f"errors={[(e['status'], e['code'], e['message']) for e in self.errors]}"
        )

    # -- waiting ---------------------------------------------------------
    def _check_refused(self) -> None:
        if self.refused:
            raise InteractionRefused(self.refusal_reason or "refused")

    async def wait_for(
        self,
        predicate: Callable[[dict[str, Any]], bool],
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> dict[str, Any]:
        """First message snapshot (past or future) matching ``predicate``."""
        self._check_refused()

        def check() -> dict[str, Any] | None:
            for m in self.messages:
                if predicate(m):
                    return m
            return None

        result: dict[str, Any] = await self._notifier.wait_until(check, timeout, self.describe)
        return result

    async def wait_for_reply(self, timeout: float = 5.0) -> dict[str, Any]:  # noqa: ASYNC109
        """First visible reply: initial message, filled-in defer, followup, edit or update."""
        return await self.wait_for(is_visible_reply, timeout)

    async def wait_for_ack(self, timeout: float = 5.0) -> int:  # noqa: ASYNC109
        """Wait for an accepted callback; returns its type."""
        self._check_refused()
        await self._notifier.wait_until(lambda: self.acknowledged, timeout, self.describe)
        assert self.callback_type is not None
        return self.callback_type

    async def wait_for_callback(self, timeout: float = 5.0) -> dict[str, Any]:  # noqa: ASYNC109
        """Wait for any callback request (accepted or rejected); returns its record."""
        self._check_refused()
        result: dict[str, Any] = await self._notifier.wait_until(
            lambda: self.callbacks[0] if self.callbacks else None, timeout, self.describe
        )
        return result

    async def wait_for_choices(self, timeout: float = 5.0) -> list[dict[str, Any]]:  # noqa: ASYNC109
        """Autocomplete: the choices the bot answered with."""
        self._check_refused()
        # Boxed: an empty list of choices is an answer too.
        box: tuple[list[dict[str, Any]]] = await self._notifier.wait_until(
            lambda: (self.choices,) if self.choices is not None else None, timeout, self.describe
        )
        return box[0]


def is_visible_reply(message: dict[str, Any]) -> bool:
    if message.get("_kind") in ("deferred", "delete"):
        return False
    return not int(message.get("flags") or 0) & FLAG_LOADING


def is_ephemeral(message: dict[str, Any]) -> bool:
    return bool(int(message.get("flags") or 0) & FLAG_EPHEMERAL)


def notifies(message: dict[str, Any]) -> bool:
    flags = int(message.get("flags") or 0)
    return not flags & (FLAG_EPHEMERAL | FLAG_SUPPRESS_NOTIFICATIONS | FLAG_LOADING)
