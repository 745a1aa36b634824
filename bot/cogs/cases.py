"""/case: a case's timeline, with autocomplete over the cases the index knows."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from .. import caserender
from ..caseviews import CHOICE_MAX, CaseButton, timeline_reply
from ..replies import answer, think

if TYPE_CHECKING:
    from ..client import DocketBot


class Cases(commands.Cog):
    def __init__(self, bot: DocketBot) -> None:
        self.bot = bot

    @app_commands.command(name="case", description="A lawsuit's timeline: what happened, "
                                                   "newest first, with sources")
    @app_commands.describe(name="The case, e.g. Bartz v. Anthropic (start typing a party)")
    async def case(self, interaction: discord.Interaction[DocketBot],
                   name: app_commands.Range[str, 1, 200]) -> None:
        await think(interaction)
        book = self.bot.service.index.cases
        found = book.resolve(name)
        if found is None:
            await answer(interaction, content=caserender.not_found_text(book, name))
            return
        await answer(interaction, **timeline_reply(book, found, 0))

    @case.autocomplete("name")
    async def _names(self, interaction: discord.Interaction[DocketBot],
                     current: str) -> list[app_commands.Choice[str]]:
        book = self.bot.service.index.cases
        return [app_commands.Choice(name=c.name[:CHOICE_MAX], value=c.name[:CHOICE_MAX])
                for c in book.suggest(current[:200], limit=25)]


async def setup(bot: DocketBot) -> None:
    bot.add_dynamic_items(CaseButton)
    await bot.add_cog(Cases(bot))
