"""/subscribe and /unsubscribe (members with Manage Server), /feeds add|remove|enable|list
(bot owners and the admin role), and the note a subscriber gets on their next command when
the bot could not post to their channel.

Both groups are gated twice, like /reindex: `default_permissions` hides the commands from
members without Manage Server, and a check in code refuses whoever is not allowed.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any, cast

import discord
from discord import app_commands
from discord.ext import commands

from index import SourceError

from .. import digestplan, feedrender
from ..errors import NotManager
from ..replies import answer, think
from ..safetext import fit, fit_escaped
from .admin import maintainers_only

if TYPE_CHECKING:
    from ..client import DocketBot

log = logging.getLogger(__name__)


def managers_only() -> Any:
    """Members with Manage Server (the server's owner and administrators have it) and bot owners."""
    async def predicate(interaction: discord.Interaction[Any]) -> bool:
        bot = cast("DocketBot", interaction.client)
        if bot.maintainers.is_owner(interaction.user.id) or interaction.permissions.manage_guild:
            return True
        raise NotManager()
    return app_commands.check(predicate)


def _bot_cannot_post(channel: discord.TextChannel) -> bool:
    me = channel.guild.me
    if me is None:
        return False
    perms = channel.permissions_for(me)
    return not (perms.view_channel and perms.send_messages)


class Feeds(commands.Cog):
    feeds = app_commands.Group(
        name="feeds", description="Manage the news feeds Docket polls (maintainers)",
        default_permissions=discord.Permissions(manage_guild=True))

    def __init__(self, bot: DocketBot) -> None:
        self.bot = bot

    # -- subscriptions -------------------------------------------------------------------

    @app_commands.command(description="Post new stories to a channel, or a weekly digest, "
                                      "optionally only on a topic")
    @app_commands.describe(channel="Where new stories are posted",
                           topic="Only stories about this, e.g. music or Getty Images "
                                 "(comma-separated for several)",
                           mode="Each new story as it is indexed, or one digest a week",
                           weekday="Digest: the day it is posted (default Monday)",
                           hour="Digest: the hour it is posted, UTC (0-23, default 9)")
    @app_commands.choices(mode=[app_commands.Choice(name="each new story", value="stories"),
                                app_commands.Choice(name="weekly digest", value="digest")])
    @app_commands.choices(weekday=[app_commands.Choice(name=day, value=i)
                                   for i, day in enumerate(digestplan.WEEKDAYS)])
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    @managers_only()
    async def subscribe(self, interaction: discord.Interaction[DocketBot],
                        channel: discord.TextChannel,
                        topic: app_commands.Range[str, 1, 100] | None = None,
                        mode: str = "stories", weekday: int | None = None,
                        hour: int | None = None) -> None:
        if mode == "digest":
            await self._subscribe_digest(interaction, channel, topic, weekday, hour)
            return
        created = await self.bot.service.subscribe(channel.id, guild_id=interaction.guild_id,
                                                   topic=topic, user_id=interaction.user.id)
        about = f" about “{fit_escaped(topic, 100)}”" if topic else ""
        verb = "will get" if created else "now gets"
        text = f"{channel.mention} {verb} new stories{about} as they are indexed."
        if _bot_cannot_post(channel):
            text += (f"\n⚠️ I can't post in {channel.mention} yet (I need View Channel and Send "
                     f"Messages there). I'll keep trying, and turn the subscription off after "
                     f"{self.bot.config.subscription_max_failures} failed posts.")
        await interaction.response.send_message(fit(text, 2000), ephemeral=True)

    async def _subscribe_digest(self, interaction: discord.Interaction[DocketBot],
                                channel: discord.TextChannel, topic: str | None,
                                weekday: int | None, hour: int | None) -> None:
        try:
            day, at = digestplan.validate_schedule(
                digestplan.DEFAULT_WEEKDAY if weekday is None else weekday,
                digestplan.DEFAULT_HOUR if hour is None else hour)
        except ValueError as exc:
            await interaction.response.send_message(str(exc), ephemeral=True)
            return
        now = dt.datetime.now(dt.UTC)
        created = await self.bot.service.digests.subscribe(
            channel.id, guild_id=interaction.guild_id, subscriber_id=interaction.user.id,
            topic=topic, weekday=day, hour=at, now=now)
        about = f" on “{fit_escaped(topic, 100)}”" if topic else ""
        first = digestplan.next_moment(now, day, at)
        text = (f"{channel.mention} {'will get' if created else 'now gets'} a weekly digest{about} "
                f"every {digestplan.WEEKDAYS[day]} at {at:02d}:00 UTC, the first on "
                f"{first:%-d %b %Y}; weeks without stories are skipped.")
        if _bot_cannot_post(channel):
            text += (f"\n⚠️ I can't post in {channel.mention} yet (I need View Channel, Send "
                     f"Messages and Attach Files there).")
        await interaction.response.send_message(fit(text, 2000), ephemeral=True)

    @app_commands.command(description="Stop posting new stories to a channel")
    @app_commands.describe(channel="The subscribed channel")
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    @managers_only()
    async def unsubscribe(self, interaction: discord.Interaction[DocketBot],
                          channel: discord.TextChannel) -> None:
        removed = await self.bot.service.subscriptions.unsubscribe(channel.id)
        removed = await self.bot.service.digests.unsubscribe(channel.id) or removed
        text = (f"{channel.mention} no longer gets new stories." if removed
                else f"{channel.mention} was not subscribed.")
        await interaction.response.send_message(text, ephemeral=True)

    @commands.Cog.listener()
    async def on_app_command_completion(self, interaction: discord.Interaction[Any],
                                        command: app_commands.Command[Any, ..., Any]
                                        | app_commands.ContextMenu) -> None:
        """Tell a subscriber, once, that the bot could not post to their channel."""
        try:
            subs = await self.bot.service.notices_for(interaction.user.id)
            if not subs or not interaction.response.is_done():
                return
            await interaction.followup.send(feedrender.notice_text(subs), ephemeral=True)
            await self.bot.service.subscriptions.noticed(s.channel_id for s in subs)
        except discord.HTTPException as exc:
            log.warning("could not tell %s about failed posts: %s", interaction.user.id, exc)

    # -- /feeds --------------------------------------------------------------------------

    @feeds.command(name="add", description="Add an RSS or Atom feed (it is fetched once first)")
    @app_commands.describe(url="The feed's address (http or https)",
                           interval="Minutes between polls (default: the configured interval)",
                           keywords="Only index items that mention one of these "
                                    "(comma-separated)")
    @maintainers_only()
    async def add(self, interaction: discord.Interaction[DocketBot],
                  url: app_commands.Range[str, 8, 500],
                  interval: app_commands.Range[int, 5, 10080] | None = None,
                  keywords: app_commands.Range[str, 1, 300] | None = None) -> None:
        await think(interaction, ephemeral=True)
        desk = self.bot.service.feeds
        try:
            preview = await desk.preview(url)
        except SourceError as exc:
            await answer(interaction, content=feedrender.refused_feed_text(url, exc.reason, str(exc)))
            return
        words = [k.strip() for k in (keywords or "").split(",") if k.strip()]
        row, created = await desk.add(preview.url, interval_minutes=interval, keywords=words,
                                      added_by=f"{interaction.user} ({interaction.user.id})")
        log.info("feed %s %s by %s", preview.url, "added" if created else "updated",
                 interaction.user.id)
        await answer(interaction, embed=feedrender.preview_embed(preview, row, created))

    @feeds.command(name="remove", description="Stop polling a feed (its articles stay indexed)")
    @app_commands.describe(url="The feed's address, as /feeds list shows it")
    @maintainers_only()
    async def remove(self, interaction: discord.Interaction[DocketBot], url: str) -> None:
        row = await self.bot.service.feeds.remove(url.strip())
        if row is None:
            text = f"No feed {fit_escaped(url, 500)}; `/feeds list` shows them."
        else:
            text = f"Removed {fit_escaped(row.url, 500)}."
            if row.origin == "config":
                text += (" It is listed in the feeds file (config/feeds.toml) and comes back "
                         "when the bot restarts; remove it there too.")
        await interaction.response.send_message(fit(text, 2000), ephemeral=True)

    @feeds.command(name="enable", description="Turn a disabled feed back on")
    @app_commands.describe(url="The feed's address, as /feeds list shows it")
    @maintainers_only()
    async def enable(self, interaction: discord.Interaction[DocketBot], url: str) -> None:
        row = await self.bot.service.feeds.enable(url.strip())
        if row is None:
            text = f"No feed {fit_escaped(url, 500)}; `/feeds list` shows them."
        else:
            text = (f"Enabled {fit_escaped(row.url, 500)}; its failure count is reset and it is "
                    f"polled on the next round.")
        await interaction.response.send_message(fit(text, 2000), ephemeral=True)

    @feeds.command(name="list", description="Every feed and its health")
    @maintainers_only()
    async def list_(self, interaction: discord.Interaction[DocketBot]) -> None:
        await think(interaction, ephemeral=True)
        await answer(interaction, embed=feedrender.feeds_embed(await self.bot.service.feeds.feeds()))

    @remove.autocomplete("url")
    @enable.autocomplete("url")
    async def _feed_urls(self, interaction: discord.Interaction[DocketBot],
                         current: str) -> list[app_commands.Choice[str]]:
        if not self.bot.maintainers.can_maintain(interaction.user):
            return []
        typed = current.strip().lower()
        urls = [f.url for f in await self.bot.service.feeds.feeds() if typed in f.url.lower()]
        return [app_commands.Choice(name=u[:100], value=u) for u in urls[:25] if len(u) <= 100]


async def setup(bot: DocketBot) -> None:
    await bot.add_cog(Feeds(bot))
