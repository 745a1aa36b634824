"""The Discord client: a `commands.Bot` wired from collaborators built in `__main__`."""

from __future__ import annotations

import logging
import time
from typing import Any

import discord
from discord.ext import commands, tasks

from index.settings import Settings

from .answers import Answers
from .errors import DocketTree
from .permissions import Maintainers
from .service import DocketService
from .settings import BotSettings
from .sync import CommandSyncer
from .views import DYNAMIC_ITEMS

log = logging.getLogger(__name__)

COGS = ("bot.cogs.ask", "bot.cogs.news", "bot.cogs.admin")


def intents_for(config: BotSettings) -> discord.Intents:
    """Only what the bot uses: guilds, and messages when it answers chat questions."""
    intents = discord.Intents.none()
    intents.guilds = True
    if config.answers_anywhere:
        intents.guild_messages = True
        intents.dm_messages = True
        # Privileged: without it, replies to the bot that do not ping it arrive empty.
        intents.message_content = config.message_content
    return intents


class DocketBot(commands.Bot):
    settings: Settings
    config: BotSettings
    service: DocketService
    answers: Answers
    maintainers: Maintainers
    syncer: CommandSyncer
    started: float
    ready_seconds: float | None

    def __init__(self, *, settings: Settings, config: BotSettings, service: DocketService,
                 started: float | None = None, **options: Any) -> None:
        options.setdefault("guild_ready_timeout", config.guild_ready_timeout_s)
        # Docket has no voice: skip discord.py's warnings about missing voice libraries.
        discord.VoiceClient.warn_nacl = False
        discord.VoiceClient.warn_dave = False
        super().__init__(
            command_prefix=commands.when_mentioned,  # unused: Docket has slash commands only
            help_command=None,
            intents=intents_for(config),
            allowed_mentions=discord.AllowedMentions.none(),
            tree_cls=DocketTree,
            **options,
        )
        self.settings = settings
        self.config = config
        self.service = service
        self.answers = Answers(service, config)
        self.maintainers = Maintainers(owner_ids=config.owner_ids, admin_roles=config.admin_roles)
        self.syncer = CommandSyncer(self.tree, config.state_path(settings.data_dir),
                                     config.guild_id)
        self.started = started if started is not None else time.perf_counter()
        self.ready_seconds = None
        self._closed = False
        self.reload_index.change_interval(seconds=config.reload_interval_s)

    async def setup_hook(self) -> None:
        if self.application is not None:
            self.maintainers.learn_application(self.application)
        for extension in COGS:
            try:
                await self.load_extension(extension)
            except Exception:
                log.exception("failed to load %s", extension)
        self.add_dynamic_items(*DYNAMIC_ITEMS)
        self.reload_index.start()
        if self.config.sync_commands:
            try:
                await self.syncer.sync()
            except discord.HTTPException:
                log.exception("command sync failed; the previous commands stay registered")

    async def is_owner(self, user: discord.abc.User, /) -> bool:
        return self.maintainers.is_owner(user.id)

    async def on_message(self, message: discord.Message, /) -> None:
        # No prefix commands: questions in chat are handled by the Ask cog's listener.
        return

    async def on_ready(self) -> None:
        if self.ready_seconds is None:
            self.ready_seconds = time.perf_counter() - self.started
            log.info("ready in %.1fs as %s (id %s) in %d guild(s)", self.ready_seconds, self.user,
                     self.user.id if self.user else "?", len(self.guilds))

    @tasks.loop(seconds=5.0)
    async def reload_index(self) -> None:
        """Pick up a snapshot published by another process (a refused one is logged once)."""
        try:
            if await self.service.index.reload_if_changed():
                log.info("now answering from snapshot %s", self.service.index.snapshot.name)
        except Exception:
            log.exception("checking for a new snapshot failed")

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.reload_index.cancel()
        try:
            await super().close()
        finally:
            await self.service.close()
