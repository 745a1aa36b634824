"""Questions in, Discord replies out: /ask, chat questions (mentions and replies) and the
buttons under answers. The search itself is `DocketService.ask`; this module does the
Discord side: limits, deferring within the 3-second window, replies, buttons, threads.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

import discord

from index import SearchResponse

from . import render
from .caseviews import case_button
from .cooldowns import TryAgain
from .errors import friendly
from .replies import answer, send_error, think
from .safetext import clean, fit
from .service import DocketService
from .settings import BotSettings
from .views import answer_view

log = logging.getLogger(__name__)

EMPTY_MENTION = ("Ask me a question after the mention, e.g. “@Docket What did Japan ask OpenAI "
                 "about Sora 2?” — or use /ask.")
TOO_OLD = "This answer is too old to continue; please ask the question again."


@dataclass
class Reply:
    """One message: content or an embed, maybe buttons; `error` replies go ephemeral."""

    content: str | None = None
    embed: discord.Embed | None = None
    view: discord.ui.View | None = None
    error: bool = False

    def kwargs(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.content is not None:
            out["content"] = self.content
        if self.embed is not None:
            out["embed"] = self.embed
        if self.view is not None:
            out["view"] = self.view
        return out


def chat_question(message: discord.Message, me: discord.abc.User) -> str | None:
    """The question in a message that mentions the bot, or replies to one of its messages.

    None when the message is not for the bot. The mention itself is removed.
    """
    mention = re.compile(rf"<@!?{me.id}>")
    mentioned = bool(mention.search(message.content))
    replied = False
    ref = message.reference
    if ref is not None and isinstance(ref.resolved, discord.Message):
        replied = ref.resolved.author.id == me.id
    if not (mentioned or replied):
        return None
    return " ".join(mention.sub(" ", message.content).split())


class Answers:
    def __init__(self, service: DocketService, config: BotSettings) -> None:
        self.service = service
        self.config = config

    async def reply_for(self, response: SearchResponse, *, offset: int, user_id: int | None,
                        channel_id: int | None, origin: str) -> Reply:
        if response.error:
            return Reply(content=fit(response.error, 2000), error=True)
        # An answer that abstained on the asked-for fact still shows the closest coverage.
        if not response.results:
            if offset:
                return Reply(content=render.no_more_text())
            return Reply(content=render.abstain_text(response))
        answer_id = await self.service.remember(response, offset=offset, user_id=user_id,
                                                channel_id=channel_id, origin=origin)
        page = offset // max(1, self.service.settings.search.results) + 1
        embed = render.answer_embed(response, index_age_s=self.service.index_age_s(), page=page)
        view = answer_view(answer_id, more=response.has_more)
        # A question that names a case ("what's the latest in bartz v anthropic") is offered
        # the case's timeline.
        named = self.service.index.cases.named_in(response.query) if not offset else None
        button = case_button(named.key, 0, f"Timeline: {named.name}"[:80]) if named else None
        if button is not None:
            view.add_item(button)
        return Reply(embed=embed, view=view)

    async def slash(self, interaction: discord.Interaction[Any], question: str) -> None:
        """/ask: reserve a search (or refuse at once), defer, search, answer."""
        if not question.strip():
            await send_error(interaction, "Ask a question in words, for example: What did Japan "
                                          "ask OpenAI about Sora 2?")
            return
        async with self.service.limiter.reserve(interaction.user.id) as slot:
            await think(interaction)
            await slot.turn()
            response = await self.service.ask(question)
        reply = await self.reply_for(response, offset=0, user_id=interaction.user.id,
                                     channel_id=interaction.channel_id, origin="slash")
        if reply.error:
            await send_error(interaction, reply.content or "")
        else:
            await answer(interaction, **reply.kwargs())

    async def more(self, interaction: discord.Interaction[Any], answer_id: int) -> None:
        """The More button: the next page, shown to whoever clicked (ephemeral)."""
        try:
            async with self.service.limiter.reserve(interaction.user.id) as slot:
                # Acknowledge before touching the database: the 3-second window is Discord's.
                await think(interaction, ephemeral=True)
                shown = await self.service.feedback.answer(answer_id)
                if shown is None:
                    await send_error(interaction, TOO_OLD)
                    return
                offset = shown.offset + len(shown.urls)
                await slot.turn()
                response = await self.service.ask(shown.question, offset=offset)
            reply = await self.reply_for(response, offset=offset, user_id=interaction.user.id,
                                         channel_id=interaction.channel_id, origin="more")
            if reply.error:
                await send_error(interaction, reply.content or "")
            else:
                await answer(interaction, ephemeral=True, **reply.kwargs())
        except Exception as exc:
            await send_error(interaction, friendly(exc))

    async def vote(self, interaction: discord.Interaction[Any], answer_id: int, vote: int) -> None:
        """A 👍/👎 button: the vote stored, thanks shown to whoever clicked (ephemeral)."""
        try:
            # Acknowledge before touching the database, as `more` does.
            await think(interaction, ephemeral=True)
            if await self.service.feedback.answer(answer_id) is None:
                await send_error(interaction, TOO_OLD)
                return
            await self.service.feedback.vote(answer_id, interaction.user.id, vote)
            thanks = "Thanks — glad it helped." if vote > 0 else \
                "Thanks — noted that this answer missed."
            await answer(interaction, content=thanks, ephemeral=True)
        except Exception as exc:
            await send_error(interaction, friendly(exc))

    async def chat(self, message: discord.Message, question: str) -> None:
        """A question asked in chat: answer as a reply (or in a new thread in thread mode)."""
        if not question:
            await self._reply(message, Reply(content=EMPTY_MENTION))
            return
        try:
            slot = self.service.limiter.reserve(message.author.id)
        except TryAgain as exc:
            await self._reply(message, Reply(content=friendly(exc), error=True), delete_after=15)
            return
        try:
            async with slot, message.channel.typing():
                await slot.turn()
                response = await self.service.ask(question)
            reply = await self.reply_for(response, offset=0, user_id=message.author.id,
                                         channel_id=message.channel.id, origin="chat")
        except Exception as exc:
            reply = Reply(content=friendly(exc), error=True)
        await self._reply(message, reply, thread_name=question)

    async def _reply(self, message: discord.Message, reply: Reply, *,
                     thread_name: str | None = None, delete_after: float | None = None) -> None:
        kwargs = reply.kwargs()
        if delete_after is not None:
            kwargs["delete_after"] = delete_after
        try:
            if (thread_name and self.config.thread_answers and not reply.error
                    and isinstance(message.channel, discord.TextChannel)):
                try:
                    thread = await message.create_thread(name=fit(clean(thread_name), 100))
                except discord.HTTPException as exc:
                    log.info("could not start a thread in %s (%s); replying instead",
                             message.channel.id, exc)
                else:
                    await thread.send(**kwargs)
                    return
            await message.reply(mention_author=False, **kwargs)
        except discord.Forbidden:
            log.info("no permission to answer in channel %s", message.channel.id)
        except discord.HTTPException:
            log.exception("could not answer message %s", message.id)
