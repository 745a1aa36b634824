"""Buttons under answers: More (the next results) and 👍/👎.

They are `DynamicItem`s: the custom id carries the answer's row id in `bot.sqlite`
(`docket:more:42`, `docket:vote:42:up`), so they keep working after a restart and
no per-message view object is held in memory (no timeout to manage). An answer
whose row is gone says so and asks for a new question.
"""

from __future__ import annotations

import re
from typing import Any, Protocol, cast

import discord

MORE_TEMPLATE = re.compile(r"docket:more:(?P<answer>[0-9]{1,18})")
VOTE_TEMPLATE = re.compile(r"docket:vote:(?P<answer>[0-9]{1,18}):(?P<vote>up|down)")


class ButtonHandler(Protocol):
    """What the buttons call: the bot's answers (`bot.answers.Answers`)."""

    async def more(self, interaction: discord.Interaction[Any], answer_id: int) -> None: ...

    async def vote(self, interaction: discord.Interaction[Any], answer_id: int,
                   vote: int) -> None: ...


class _AnswersClient(Protocol):
    answers: ButtonHandler


def _bot(interaction: discord.Interaction[Any]) -> _AnswersClient:
    """The client the interaction came to: the bot (`bot.client.DocketBot`)."""
    return cast(_AnswersClient, interaction.client)


class MoreButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=MORE_TEMPLATE):
    def __init__(self, answer_id: int) -> None:
        super().__init__(discord.ui.Button(label="More", style=discord.ButtonStyle.secondary,
                                           custom_id=f"docket:more:{answer_id}"))
        self.answer_id = answer_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any],
                             item: discord.ui.Item[Any], match: re.Match[str]) -> MoreButton:
        return cls(int(match["answer"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await _bot(interaction).answers.more(interaction, self.answer_id)


class VoteButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=VOTE_TEMPLATE):
    def __init__(self, answer_id: int, vote: str) -> None:
        super().__init__(discord.ui.Button(
            emoji="👍" if vote == "up" else "👎", style=discord.ButtonStyle.secondary,
            custom_id=f"docket:vote:{answer_id}:{vote}"))
        self.answer_id = answer_id
        self.vote = vote

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any],
                             item: discord.ui.Item[Any], match: re.Match[str]) -> VoteButton:
        return cls(int(match["answer"]), match["vote"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await _bot(interaction).answers.vote(interaction, self.answer_id,
                                             1 if self.vote == "up" else -1)


DYNAMIC_ITEMS = (MoreButton, VoteButton)


def answer_view(answer_id: int, *, more: bool) -> discord.ui.View:
    """The buttons under one answer (More only while there are further results)."""
    view = discord.ui.View(timeout=None)
    if more:
        view.add_item(MoreButton(answer_id))
    view.add_item(VoteButton(answer_id, "up"))
    view.add_item(VoteButton(answer_id, "down"))
    return view
