"""Maintenance: /reindex [full] (owners and the admin role) and /sync (owners).

Both are gated twice: `default_permissions` hides them from members without Manage
Server (server admins may change that in Integrations settings), and a check in code
refuses anyone who is neither a bot owner nor holds a configured admin role.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any, cast

import discord
from discord import app_commands
from discord.ext import commands

from ..errors import NotMaintainer, NotOwner
from ..reindex import ReindexRun, ReindexRunning
from ..replies import send_error
from ..safetext import fit

if TYPE_CHECKING:
    from ..client import DocketBot

log = logging.getLogger(__name__)

# Interaction tokens last 15 minutes; after this, progress moves to a channel message.
TOKEN_LIFETIME_S = 14 * 60


def maintainers_only() -> Any:
    async def predicate(interaction: discord.Interaction[Any]) -> bool:
        bot = cast("DocketBot", interaction.client)
        if bot.maintainers.can_maintain(interaction.user):
            return True
        log.info("refused /%s for %s (%s)", interaction.command.name if interaction.command else "?",
                 interaction.user, interaction.user.id)
        raise NotMaintainer()
    return app_commands.check(predicate)


def owners_only() -> Any:
    async def predicate(interaction: discord.Interaction[Any]) -> bool:
        bot = cast("DocketBot", interaction.client)
        if bot.maintainers.is_owner(interaction.user.id):
            return True
        raise NotOwner()
    return app_commands.check(predicate)


def progress_text(run: ReindexRun) -> str:
    if run.running:
        return fit(f"⏳ {run.line()}", 2000)
    if run.error:
        return fit(f"❌ {run.line()}", 2000)
    assert run.summary is not None
    swapped = (f"Now answering from snapshot `{run.summary.snapshot}`." if run.reloaded
               else "The index was already up to date." if not run.summary.published
               else "")
    return fit(f"✅ {run.line()}. {run.summary.line()}. {swapped}".strip(), 2000)


class Admin(commands.Cog):
    def __init__(self, bot: DocketBot) -> None:
        self.bot = bot
        self._watchers: set[asyncio.Task[None]] = set()

    async def cog_unload(self) -> None:
        for task in self._watchers:
            task.cancel()

    @app_commands.command(description="Refresh the news index from its sources (maintainers)")
    @app_commands.describe(full="Rebuild from scratch, re-embedding every article (slower)")
    @app_commands.default_permissions(manage_guild=True)
    @maintainers_only()
    async def reindex(self, interaction: discord.Interaction[DocketBot], full: bool = False) -> None:
        try:
            run = self.bot.service.reindex(full=full, by=interaction.user.display_name,
                                           by_id=interaction.user.id)
        except ReindexRunning as exc:
            await send_error(interaction, f"A reindex started by {exc.run.started_by} is already "
                                          f"running: {exc.run.line()}")
            return
        await interaction.response.send_message(progress_text(run))
        task = asyncio.create_task(self._watch(interaction, run), name="docket-reindex-progress")
        self._watchers.add(task)
        task.add_done_callback(self._watchers.discard)

    async def _watch(self, interaction: discord.Interaction[DocketBot], run: ReindexRun) -> None:
        """Edit the progress message every few seconds, then report the summary."""
        started = time.monotonic()
        channel_message: discord.Message | None = None
        last = ""
        while True:
            finished = not run.running
            text = progress_text(run)
            if text != last:
                try:
                    if time.monotonic() - started < TOKEN_LIFETIME_S:
                        await interaction.edit_original_response(content=text)
                    elif channel_message is not None:
                        await channel_message.edit(content=text)
                    elif isinstance(interaction.channel, discord.abc.Messageable):
                        channel_message = await interaction.channel.send(text)
                    last = text
                except discord.HTTPException as exc:
                    log.warning("could not update reindex progress: %s", exc)
            if finished:
                return
            try:
                await asyncio.wait_for(run.finished_event.wait(), self.bot.config.progress_interval_s)
            except TimeoutError:
                pass

    @app_commands.command(description="Re-register Docket's slash commands now (bot owners)")
    @app_commands.default_permissions(manage_guild=True)
    @owners_only()
    async def sync(self, interaction: discord.Interaction[DocketBot]) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        result = await self.bot.syncer.sync(force=True)
        await interaction.followup.send(f"Synced {result.commands} commands ({result.scope}).",
                                        ephemeral=True)


async def setup(bot: DocketBot) -> None:
    await bot.add_cog(Admin(bot))
