"""The buttons that open a page of a case's timeline: More under /case, and "Timeline"
under an /ask answer whose question names a case."""

from __future__ import annotations

import re
from typing import Any

import discord

from . import caserender
from .replies import answer, send_error, think

# docket:case:<page>:<case key>; a key too long for Discord's 100-character custom id
# gets no button (its first page is still shown).
CASE_TEMPLATE = re.compile(r"docket:case:(?P<page>[0-9]{1,4}):(?P<key>[a-z0-9-]{1,80})")
CHOICE_MAX = 100  # Discord's limit for a choice's name and value


def case_button(key: str, page: int, label: str) -> CaseButton | None:
    if len(key) > 80:
        return None
    return CaseButton(key, page, label)


class CaseButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=CASE_TEMPLATE):
    """Opens a page of a case's timeline, shown to whoever clicked. Stateless: the case
    key and page are in the custom id, so it works after a restart and a re-index."""

    def __init__(self, key: str, page: int, label: str = "More") -> None:
        super().__init__(discord.ui.Button(label=label, style=discord.ButtonStyle.secondary,
                                           custom_id=f"docket:case:{page}:{key}"))
        self.key = key
        self.page = page

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any],
                             item: discord.ui.Item[Any], match: re.Match[str]) -> CaseButton:
        return cls(match["key"], int(match["page"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await think(interaction, ephemeral=True)
        book = interaction.client.service.index.cases
        case = next((c for c in book.cases if c.key == self.key), None)
        if case is None:
            await send_error(interaction, "That case is no longer in the index; try `/case`.")
            return
        await answer(interaction, ephemeral=True, **timeline_reply(book, case, self.page))


def timeline_reply(book: Any, case: Any, page: int) -> dict[str, Any]:
    """The embed of one page and, while pages remain, a button for the next."""
    kwargs: dict[str, Any] = {"embed": caserender.timeline_embed(book, case, page)}
    if page + 1 < caserender.pages(book, case):
        button = case_button(case.key, page + 1, "More")
        if button is not None:
            view = discord.ui.View(timeout=None)
            view.add_item(button)
            kwargs["view"] = view
    return kwargs
