"""The fake Discord's world: one guild with roles, members and channels, plus DMs and
the message store. Built fresh for every ``FakeDiscord``."""

from __future__ import annotations

from typing import Any

from .errors import unknown_channel
from .state import (
    FakeChannel,
    FakeGuild,
    FakeMember,
    FakeRole,
    FakeUser,
    Overwrite,
    P,
    Snowflakes,
)

BOT_ROLE_PERMISSIONS = (
    P.VIEW_CHANNEL
    | P.SEND_MESSAGES
    | P.EMBED_LINKS
    | P.ATTACH_FILES
    | P.READ_MESSAGE_HISTORY
    | P.ADD_REACTIONS
    | P.USE_EXTERNAL_EMOJIS
    | P.CREATE_PUBLIC_THREADS
    | P.SEND_MESSAGES_IN_THREADS
)

# Permissions a bot has in a DM (what Discord reports as app_permissions there).
DM_PERMISSIONS = (
    P.VIEW_CHANNEL
    | P.SEND_MESSAGES
    | P.EMBED_LINKS
    | P.ATTACH_FILES
    | P.READ_MESSAGE_HISTORY
    | P.ADD_REACTIONS
    | P.USE_EXTERNAL_EMOJIS
    | P.MENTION_EVERYONE
    | P.USE_APPLICATION_COMMANDS
)


class World:
    """Users, one guild, channels and the message store.

    Default cast (attributes): ``bot_user`` (the bot, also the application id),
    ``admin`` (has the "Docket Admin" role), ``member`` (ordinary), ``manager`` (has the
    "Moderators" role, which grants Manage Server), ``owner`` (the application's owner,
    an ordinary member otherwise) and ``server_owner`` (owns the guild, so has every
    permission). Channels: ``general``, ``bot_commands``, ``read_only`` (#announcements,
    where the bot is denied Send Messages) and ``staff`` (hidden from @everyone, visible
    to the two staff roles and the bot).
    """

    def __init__(self, ids: Snowflakes, *, app_name: str = "Docket") -> None:
        self.ids = ids
        self.users: dict[int, FakeUser] = {}
        self.channels: dict[int, FakeChannel] = {}
        self.dm_channels: dict[int, FakeChannel] = {}
        self.messages: dict[int, dict[str, Any]] = {}
        self.channel_index: dict[int, list[int]] = {}
        self.deleted_messages: list[dict[str, Any]] = []

        self.bot_user = self._user(app_name, bot=True)
        self.application_id = self.bot_user.id
        self.admin = self._user("alice", "Alice (admin)")
        self.member = self._user("bob", "Bob")
        self.manager = self._user("carol", "Carol (moderator)")
        self.owner = self._user("dave", "Dave (app owner)")
        self.server_owner = self._user("erin", "Erin (server owner)")

        gid = ids.next()
        self.guild = FakeGuild(id=gid, name="Docket Test Server", owner_id=self.server_owner.id)
        g = self.guild
        self.everyone_role = self._role(gid, "@everyone", P.EVERYONE_DEFAULT, 0)
        self.admin_role = self._role(ids.next(), "Docket Admin", 0, 1)
        self.moderator_role = self._role(
            ids.next(), "Moderators", P.MANAGE_GUILD, 2, mentionable=True
        )
        self.bot_role = self._role(
            ids.next(), app_name, BOT_ROLE_PERMISSIONS, 3, managed=True, bot_id=self.bot_user.id
        )
        for user, roles in (
            (self.bot_user, [self.bot_role.id]),
            (self.admin, [self.admin_role.id]),
            (self.member, []),
            (self.manager, [self.moderator_role.id]),
            (self.owner, []),
            (self.server_owner, []),
        ):
            g.members[user.id] = FakeMember(user=user, roles=roles)

        self.general = self.add_text_channel("general", topic="General chat")
        self.bot_commands = self.add_text_channel("bot-commands")
        self.read_only = self.add_text_channel(
            "announcements",
            overwrites=[Overwrite(self.bot_user.id, 1, deny=P.SEND_MESSAGES)],
        )
        self.staff = self.add_text_channel(
            "staff",
            overwrites=[
                Overwrite(gid, 0, deny=P.VIEW_CHANNEL),
                Overwrite(self.admin_role.id, 0, allow=P.VIEW_CHANNEL),
                Overwrite(self.moderator_role.id, 0, allow=P.VIEW_CHANNEL),
                Overwrite(self.bot_role.id, 0, allow=P.VIEW_CHANNEL),
            ],
        )

    # -- construction helpers -------------------------------------------
    def _user(self, username: str, global_name: str | None = None, bot: bool = False) -> FakeUser:
        user = FakeUser(id=self.ids.next(), username=username, global_name=global_name, bot=bot)
        self.users[user.id] = user
        return user

    def _role(
        self,
        rid: int,
        name: str,
        perms: int,
        position: int,
        *,
        mentionable: bool = False,
        managed: bool = False,
        bot_id: int | None = None,
    ) -> FakeRole:
        role = FakeRole(
            id=rid,
            name=name,
            permissions=perms,
            position=position,
            mentionable=mentionable,
            managed=managed,
            bot_id=bot_id,
        )
        self.guild.roles[rid] = role
        return role

    def add_text_channel(
        self,
        name: str,
        *,
        overwrites: list[Overwrite] | None = None,
        topic: str | None = None,
        nsfw: bool = False,
    ) -> FakeChannel:
        ch = FakeChannel(
            id=self.ids.next(),
            name=name,
            type=0,
            guild_id=self.guild.id,
            position=len(self.guild.channel_ids),
            overwrites=list(overwrites or []),
            topic=topic,
            nsfw=nsfw,
        )
        self.channels[ch.id] = ch
        self.guild.channel_ids.append(ch.id)
        self.channel_index[ch.id] = []
        return ch

    def add_role(self, name: str, permissions: int = 0, *, mentionable: bool = False) -> FakeRole:
        position = max(r.position for r in self.guild.roles.values()) + 1
        return self._role(self.ids.next(), name, permissions, position, mentionable=mentionable)

    def add_member(
        self, username: str, *, roles: list[FakeRole] | None = None, bot: bool = False
    ) -> FakeUser:
        user = self._user(username, bot=bot)
        self.guild.members[user.id] = FakeMember(user=user, roles=[r.id for r in roles or []])
        return user

    def add_thread(
        self,
        parent: FakeChannel,
        name: str,
        *,
        type: int,
        owner_id: int,
        thread_id: int | None = None,
        auto_archive_duration: int = 1440,
    ) -> FakeChannel:
        th = FakeChannel(
            id=thread_id or self.ids.next(),
            name=name,
            type=type,
            guild_id=parent.guild_id,
            parent_id=parent.id,
            owner_id=owner_id,
            auto_archive_duration=auto_archive_duration,
        )
        self.channels[th.id] = th
        self.channel_index[th.id] = []
        return th

    def dm_channel(self, user: FakeUser) -> FakeChannel:
        ch = self.dm_channels.get(user.id)
        if ch is None:
            ch = FakeChannel(id=self.ids.next(), name="", type=1, recipients=[user])
            self.channels[ch.id] = ch
            self.dm_channels[user.id] = ch
            self.channel_index[ch.id] = []
        return ch

    # -- lookups ---------------------------------------------------------
    def channel(self, channel_id: int | str) -> FakeChannel:
        try:
            return self.channels[int(channel_id)]
        except (KeyError, ValueError):
            raise unknown_channel() from None

    def channel_by_name(self, name: str) -> FakeChannel:
        for ch in self.channels.values():
            if ch.name == name.lstrip("#"):
                return ch
        raise KeyError(name)

    def guild_of(self, channel: FakeChannel) -> FakeGuild | None:
        return self.guild if channel.guild_id == self.guild.id else None

    def permissions(self, user_id: int, channel: FakeChannel) -> int:
        """A user's permissions in a channel (threads use their parent's overwrites)."""
        if channel.type == 1:
            return DM_PERMISSIONS
        target = channel
        if channel.is_thread and channel.parent_id is not None:
            target = self.channels[channel.parent_id]
        if user_id not in self.guild.members:
            return 0
        return self.guild.channel_permissions(user_id, target)

    def thread_ids(self) -> list[int]:
        return [c.id for c in self.channels.values() if c.is_thread]
