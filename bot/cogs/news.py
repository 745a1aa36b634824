"""/latest, /sources, /status and /help."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from .. import render
from ..replies import answer, think

if TYPE_CHECKING:
    from ..client import DocketBot

# Suggestions for /latest's topic; any text works.
TOPICS = ("lawsuits", "settlements", "rulings", "licensing deals", "legislation",
          "government requests", "music", "books and authors", "news publishers", "images and art",
          "video", "code", "OpenAI", "Anthropic", "Stability AI", "Midjourney", "Getty Images",
          "The New York Times", "Japan", "European Union", "US Copyright Office")


class News(commands.Cog):
    def __init__(self, bot: DocketBot) -> None:
        self.bot = bot

    @app_commands.command(description="The newest AI-and-copyright stories, newest first")
    @app_commands.describe(topic="Only stories about this, e.g. music or Getty Images",
                           days="Only stories from the last this many days",
                           count="How many stories (1-10)")
    async def latest(self, interaction: discord.Interaction[DocketBot],
                     topic: app_commands.Range[str, 1, 100] | None = None,
                     days: app_commands.Range[int, 1, 3650] | None = None,
                     count: app_commands.Range[int, 1, 10] | None = None) -> None:
        await think(interaction)
        results = await self.bot.service.latest(topic, days=days, count=count)
        await answer(interaction, embed=render.latest_embed(results, topic=topic, days=days))

    @latest.autocomplete("topic")
    async def _topics(self, interaction: discord.Interaction[DocketBot],
                      current: str) -> list[app_commands.Choice[str]]:
        typed = current.strip().lower()
        matches = [t for t in TOPICS if typed in t.lower()] if typed else list(TOPICS)
        return [app_commands.Choice(name=t, value=t) for t in matches[:25]]

    @app_commands.command(description="The news outlets in the index and their article counts")
    async def sources(self, interaction: discord.Interaction[DocketBot]) -> None:
        await think(interaction)
        report = await self.bot.service.sources()
        await answer(interaction, embed=render.sources_embed(report))

    @app_commands.command(description="Index size and freshness, uptime and search speed")
    async def status(self, interaction: discord.Interaction[DocketBot]) -> None:
        await think(interaction)
        report = await self.bot.service.status()
        await answer(interaction, embed=render.status_embed(report))

    @app_commands.command(name="help", description="What Docket does and how to ask it")
    async def help_(self, interaction: discord.Interaction[DocketBot]) -> None:
        await interaction.response.send_message(embed=render.help_embed(), ephemeral=True)


async def setup(bot: DocketBot) -> None:
    await bot.add_cog(News(bot))
