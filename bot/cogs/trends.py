"""/trends: a chart of stories per week (per month beyond a year), overall or on a topic,
attached as a PNG inside an embed; the summary and the image's alt text give the numbers."""

from __future__ import annotations

import asyncio
import io
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from index import (
    DEFAULT_WEEKS,
    MAX_WEEKS,
    MIN_WEEKS,
    Trend,
    check_weeks,
    render_chart,
    trend_empty_text,
)

from .. import safetext as st
from ..replies import answer, think

if TYPE_CHECKING:
    from ..client import DocketBot

COLOR = discord.Colour(0x3B6EA8)
FILENAME = "trends.png"


def trend_reply(trend: Trend, png: bytes) -> dict[str, object]:
    about = f" on “{st.fit_escaped(trend.topic, 100)}”" if trend.topic else ""
    embed = discord.Embed(title=f"Stories per {trend.unit}{about}", colour=COLOR,
                          description=st.fit_escaped(trend.summary(), 1000))
    embed.set_image(url=f"attachment://{FILENAME}")
    file = discord.File(io.BytesIO(png), filename=FILENAME, description=trend.alt_text())
    return {"embed": embed, "file": file}


class Trends(commands.Cog):
    def __init__(self, bot: DocketBot) -> None:
        self.bot = bot

    @app_commands.command(description="A chart of AI-and-copyright stories per week, overall "
                                      "or on a topic")
    @app_commands.describe(topic="Only stories about this, e.g. music or Getty Images",
                           weeks=f"How many weeks back ({MIN_WEEKS}-{MAX_WEEKS}, "
                                 f"default {DEFAULT_WEEKS}); per month beyond a year")
    async def trends(self, interaction: discord.Interaction[DocketBot],
                     topic: app_commands.Range[str, 1, 100] | None = None,
                     weeks: int | None = None) -> None:
        # weeks is checked here, not by Discord's min/max: one sentence says what is wrong.
        try:
            span = check_weeks(DEFAULT_WEEKS if weeks is None else weeks)
        except ValueError as exc:
            await interaction.response.send_message(str(exc), ephemeral=True)
            return
        await think(interaction)
        trend = await self.bot.service.index.trend(topic, weeks=span)
        if trend.empty:
            await answer(interaction, content=await trend_empty_text(self.bot.service.index, trend))
            return
        png = await asyncio.to_thread(render_chart, trend)
        await answer(interaction, **trend_reply(trend, png))


async def setup(bot: DocketBot) -> None:
    await bot.add_cog(Trends(bot))
