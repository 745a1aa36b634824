"""The small protocol for replying to an interaction, whatever state it is in.

`think` defers and remembers whether the placeholder is public, so that an error after
it can replace it with an ephemeral message instead of leaving a public "Docket is
thinking…" behind; `answer` sends the reply; `send_error` sends an ephemeral error.
"""

from __future__ import annotations

import logging
from typing import Any

import discord

from .safetext import fit

log = logging.getLogger(__name__)


async def think(interaction: discord.Interaction[Any], *, ephemeral: bool = False) -> None:
    """Acknowledge at once with Discord's "thinking…" placeholder."""
    await interaction.response.defer(thinking=True, ephemeral=ephemeral)
    interaction.extras["thinking"] = "ephemeral" if ephemeral else "public"


async def answer(interaction: discord.Interaction[Any], **kwargs: Any) -> None:
    """The reply: the first followup after `think` replaces its placeholder."""
    if interaction.response.is_done():
        await interaction.followup.send(**kwargs)
    else:
        await interaction.response.send_message(**kwargs)
    interaction.extras.pop("thinking", None)


async def send_error(interaction: discord.Interaction[Any], text: str) -> None:
    """An ephemeral error in whatever state the interaction is in; never raises."""
    text = fit(text, 2000)
    try:
        if not interaction.response.is_done():
            await interaction.response.send_message(text, ephemeral=True)
            return
        if interaction.extras.get("thinking") == "public":
            # A followup would turn the public placeholder into a public error: remove it.
            await interaction.delete_original_response()
        interaction.extras.pop("thinking", None)
        await interaction.followup.send(text, ephemeral=True)
    except discord.HTTPException as exc:
        log.warning("could not send an error reply (%s): %s", exc, text)
