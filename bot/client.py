"""The Discord client: a `commands.Bot` wired from collaborators built in `__main__`."""

from __future__ import annotations

import asyncio
import io
import logging
import time
from typing import Any

import discord
from discord.ext import commands, tasks

from index import IngestBusy, Settings

from .announce import PostFailed, PostRefused, Story
from .answers import Answers
from .errors import DocketTree
from .feedrender import announcement_text
from .permissions import Maintainers
from .service import DocketService
from .settings import BotSettings
from .sync import CommandSyncer
from .views import DYNAMIC_ITEMS

log = logging.getLogger(__name__)

COGS = ("bot.cogs.ask", "bot.cogs.news", "bot.cogs.admin", "bot.cogs.feeds", "bot.cogs.cases",
        "bot.cogs.trends")

# At shutdown, answers being worked on get this long to reach Discord; the rest are dropped.
ANSWER_GRACE_S = 3.0
# The tasks discord.py runs a slash command, a button press or a chat message's handlers in.
_ANSWERING_TASKS = ("CommandTree-invoker", "discord-ui-dynamic-item-", "discord-ui-view-dispatch-",
                    "discord-ui-modal-dispatch-", "discord.py: on_message")


def answering_tasks() -> set[asyncio.Task[object]]:
    """The tasks now answering a command, a button press or a chat question (not this one)."""
    current = asyncio.current_task()
    return {t for t in asyncio.all_tasks()
            if t is not current and not t.done() and t.get_name().startswith(_ANSWERING_TASKS)}


async def finish_answers(grace_s: float) -> None:
    """Wait up to `grace_s` for answers in flight (and any begun meanwhile); cancel the rest."""
    deadline = time.monotonic() + grace_s
    if pending := answering_tasks():
        log.info("finishing %d answer(s) in progress", len(pending))
    while pending and (left := deadline - time.monotonic()) > 0:
        await asyncio.wait(pending, timeout=left)
        pending = answering_tasks()
    if pending:
        log.warning("dropping %d answer(s) still in progress at shutdown", len(pending))
        for task in pending:
            task.cancel()
        await asyncio.wait(pending, timeout=1.0)


class DiscordPoster:
    """Sends one story to a channel for the announcer; maps Discord's refusals."""

    def __init__(self, bot: discord.Client) -> None:
        self.bot = bot

    async def post(self, channel_id: int, story: Story, kind: str) -> int:
        try:
            channel = self.bot.get_channel(channel_id) or await self.bot.fetch_channel(channel_id)
            if not isinstance(channel, discord.abc.Messageable):
                raise PostRefused("not a channel stories can be posted in")
            message = await channel.send(announcement_text(story, kind),
                                         allowed_mentions=discord.AllowedMentions.none())
        except discord.Forbidden as exc:
            raise PostRefused(f"{exc.text or 'Forbidden'} (Discord error {exc.code})") from exc
        except discord.NotFound as exc:
            raise PostRefused("the channel no longer exists") from exc
        except discord.HTTPException as exc:
            raise PostFailed(f"HTTP {exc.status} {exc.text}") from exc
        return message.id

    async def post_digest(self, channel_id: int, embed: discord.Embed, png: bytes, alt: str) -> int:
        """A weekly digest: the embed with its chart attached (alt text: the numbers)."""
        try:
            channel = self.bot.get_channel(channel_id) or await self.bot.fetch_channel(channel_id)
            if not isinstance(channel, discord.abc.Messageable):
                raise PostRefused("not a channel digests can be posted in")
            file = discord.File(io.BytesIO(png), filename="digest.png", description=alt)
            message = await channel.send(embed=embed, file=file,
                                         allowed_mentions=discord.AllowedMentions.none())
        except discord.Forbidden as exc:
            raise PostRefused(f"{exc.text or 'Forbidden'} (Discord error {exc.code})") from exc
        except discord.NotFound as exc:
            raise PostRefused("the channel no longer exists") from exc
        except discord.HTTPException as exc:
            raise PostFailed(f"HTTP {exc.status} {exc.text}") from exc
        return message.id


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
        self._closing: asyncio.Future[None] | None = None
        self.poster = DiscordPoster(self)
        self.feed_ticks = 0
        self.reload_index.change_interval(seconds=config.reload_interval_s)
        self.feed_tick.change_interval(seconds=config.feed_interval_s)

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
        self.feed_tick.start()
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

    @tasks.loop(seconds=60.0)
    async def feed_tick(self) -> None:
        """Poll the feeds that are due, pick up the snapshot that made, post new stories."""
        try:
            await self.service.feeds.poll()
        except IngestBusy:
            log.info("feed poll postponed: another ingest is running")
        except Exception:
            log.exception("polling the feeds failed")
        try:
            if await self.service.index.reload_if_changed():
                log.info("now answering from snapshot %s", self.service.index.snapshot.name)
        except Exception:
            log.exception("checking for a new snapshot failed")
        try:
            await self.service.announcer.deliver(self.poster)
        except Exception:
            log.exception("posting new stories failed")
        try:
            await self.service.digester.deliver(self.poster.post_digest)
        except Exception:
            log.exception("posting the weekly digests failed")
        self.feed_ticks += 1

    @feed_tick.before_loop
    async def _before_feed_tick(self) -> None:
        # Posting needs the channel cache; the first poll waits for it too.
        await self.wait_until_ready()

    async def close(self) -> None:
        """Stop: background work first, answers in flight get `ANSWER_GRACE_S` to finish, then
        the gateway, the HTTP session and the service's databases and threads are closed.

        Every caller (a signal, `async with`, `serve`'s cleanup) awaits the same shutdown;
        a caller that is cancelled does not cancel it.
        """
        if self._closing is None:
            self._closing = asyncio.ensure_future(self._shutdown())
        await asyncio.shield(self._closing)

    async def _shutdown(self) -> None:
        # Feed polls and reindexes stop now (they run in their own threads, which are
        # stopped and waited for); the gateway stays up while answers finish.
        loops = [t for t in (self.reload_index.get_task(), self.feed_tick.get_task())
                 if t is not None and not t.done()]
        self.reload_index.cancel()
        self.feed_tick.cancel()
        stop_reindex = asyncio.ensure_future(self.service.reindexer.close())
        try:
            await finish_answers(ANSWER_GRACE_S)
            if loops:
                await asyncio.wait(loops)
            await stop_reindex
            await super().close()
        finally:
            await self.service.close()
