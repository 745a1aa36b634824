"""One place that turns exceptions into short, friendly replies; tracebacks go to the log.

The replies themselves go out through `bot.replies`.
"""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord import app_commands

from index import ConfigError, IndexNotReady, IngestBusy, QueryError, SnapshotError

from .cooldowns import TryAgain
from .reindex import ReindexRunning
from .replies import send_error

log = logging.getLogger(__name__)

UNEXPECTED = "Something went wrong on my side; the error was logged. Please try again later."


class NotMaintainer(app_commands.CheckFailure):
    """Maintenance by someone who is neither a bot owner nor holds the admin role."""


class NotOwner(app_commands.CheckFailure):
    """An owner-only command by someone else."""


class NotManager(app_commands.CheckFailure):
    """A server-management command by a member without Manage Server."""


def friendly(error: BaseException) -> str:
    """The short text a user sees for an error; logs what the user must not see."""
    if isinstance(error, app_commands.CommandInvokeError):
        error = error.original
    if isinstance(error, TryAgain):
        if error.reason == "cooldown":
            return f"You're asking quickly — try again in {error.retry_after} s."
        return f"Docket is busy answering other questions — try again in {error.retry_after} s."
    if isinstance(error, NotMaintainer):
        return "Only the bot's owners and members with the admin role can do that."
    if isinstance(error, NotOwner):
        return "Only the bot's owners can do that."
    if isinstance(error, NotManager):
        return "Only members with the Manage Server permission can do that."
    if isinstance(error, ReindexRunning):
        return f"A reindex is already running. {error.run.line()}"
    if isinstance(error, app_commands.CommandNotFound | app_commands.CommandSignatureMismatch):
        log.warning("stale command registration (%s): an owner should run /sync", error)
        return "That command has changed since it was registered; please try again later."
    if isinstance(error, app_commands.NoPrivateMessage):
        return "That command only works in a server."
    if isinstance(error, app_commands.CheckFailure):
        return "You can't use that command here."
    if isinstance(error, IndexNotReady):
        return "The news index isn't ready yet; please try again in a minute."
    if isinstance(error, QueryError):
        return str(error)
    if isinstance(error, IngestBusy):
        return "Another index update is running; try again when it has finished."
    if isinstance(error, SnapshotError | ConfigError):
        log.error("%s: %s", type(error).__name__, error)
        return "The news index has a problem; the details are in the bot's log."
    if isinstance(error, discord.Forbidden):
        log.warning("missing Discord permission: %s", error)
        return "I don't have the Discord permission to do that here."
    log.error("unexpected error", exc_info=error)
    return UNEXPECTED


class DocketTree(app_commands.CommandTree[Any]):
    """The command tree, with the bot's single app-command error handler."""

    async def on_error(self, interaction: discord.Interaction[Any],
                       error: app_commands.AppCommandError) -> None:
        name = interaction.command.qualified_name if interaction.command else "?"
        original = error.original if isinstance(error, app_commands.CommandInvokeError) else error
        if not isinstance(original, TryAgain | app_commands.CheckFailure | ReindexRunning):
            log.info("/%s by %s failed: %s", name, interaction.user.id, type(original).__name__)
        await send_error(interaction, friendly(error))
