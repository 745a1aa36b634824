"""/ask, and questions asked in chat (an @mention of the bot, or a reply to one of its answers)."""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from index import clean_question

from ..answers import chat_question
from ..settings import QUESTION_MAX_CHARS

if TYPE_CHECKING:
    from ..client import DocketBot

log = logging.getLogger(__name__)

# The gateway delivers at least once (a RESUME replays from the sequence the client last
# reported): the ids of this many recent messages are kept so that none is answered twice.
SEEN_MESSAGES = 2048


class Ask(commands.Cog):
    def __init__(self, bot: DocketBot) -> None:
        self.bot = bot
        self._seen: OrderedDict[int, None] = OrderedDict()
        # How many message events and /ask interactions this cog has finished with
        # (answered, ignored or failed): whoever delivered them can tell that the bot has
        # caught up, e.g. a test before it checks that nothing more was sent.
        self.messages_handled = 0
        self.asks_handled = 0

    def _first_delivery(self, message_id: int) -> bool:
        """True the first time a message id is seen (checked before any await)."""
        if message_id in self._seen:
            return False
        self._seen[message_id] = None
        if len(self._seen) > SEEN_MESSAGES:
            self._seen.popitem(last=False)
        return True

    @app_commands.command(description="Quotes from news articles that answer a question about "
                                      "AI and copyright")
    @app_commands.describe(question="What you want to know, e.g. What did Japan ask OpenAI "
                                    "about Sora 2?")
    async def ask(self, interaction: discord.Interaction[DocketBot],
                  question: app_commands.Range[str, 1, QUESTION_MAX_CHARS]) -> None:
        try:
            await self.bot.answers.slash(interaction, question)
        finally:
            self.asks_handled += 1

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        try:
            await self._on_message(message)
        finally:
            self.messages_handled += 1

    async def _on_message(self, message: discord.Message) -> None:
        me = self.bot.user
        # Never answer a bot (itself included) or a webhook: no loops, no echo chains.
        if me is None or message.author.bot or message.webhook_id is not None:
            return
        if not self._first_delivery(message.id):
            log.info("ignoring message %s delivered again", message.id)
            return
        channel = message.channel
        parent = getattr(channel, "parent", None)
        if not self.bot.config.answers_in(channel.id, getattr(channel, "name", None),
                                          getattr(parent, "id", None),
                                          getattr(parent, "name", None)):
            return
        if message.reference is not None and message.reference.resolved is None \
                and message.reference.message_id is not None:
            # A reply whose original is not in the payload: look it up once.
            try:
                message.reference.resolved = await channel.fetch_message(
                    message.reference.message_id)
            except discord.HTTPException:
                pass
        question = chat_question(message, me)
        if question is None:
            return
        # Other mentions (@everyone, roles, channels) are not part of the question either:
        # a message of mentions only gets the hint, like a bare mention of the bot.
        question = clean_question(question)
        await self.bot.answers.chat(message, question[:QUESTION_MAX_CHARS])


async def setup(bot: DocketBot) -> None:
    await bot.add_cog(Ask(bot))
