"""Mentions in questions asked in Discord: removed before searching (so they never change
the answer), a question of mentions only gets the help line, and nothing is ever pinged."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from docket_harness import EPHEMERAL, assert_inert, running_docket

from index.embed import Encoder

pytestmark = pytest.mark.asyncio(loop_scope="function")

GETTY = "what happened with getty?"


def links(message: dict[str, Any]) -> str:
    """The answer's article list (its description): what the asker reads."""
    return str(message["embeds"][0]["description"])


def pinged_nobody(message: dict[str, Any]) -> bool:
    return (message["pinged"] == [] and message["mention_everyone"] is False
            and message["mention_roles"] == [] and message["mentions"] == [])


async def test_slash_ask_answers_a_question_with_mentions_as_without(
        encoder: Encoder, sample_index: Path, tmp_path: Path) -> None:
    async with running_docket(encoder, sample_index, tmp_path) as d:
        fake = d.fake
        plain = await (await fake.dispatch_slash("ask", {"question": GETTY})).wait_for_reply(
            timeout=15)
        assert plain["embeds"], plain
        for question in (f"@everyone {GETTY}",
                         f"@here {fake.moderator_role.mention} {GETTY} {fake.admin.mention}"):
            reply = await (await fake.dispatch_slash("ask", {"question": question})
                           ).wait_for_reply(timeout=15)
            assert reply["embeds"], reply
            assert links(reply) == links(plain)
            assert pinged_nobody(reply)
            assert_inert(reply["embeds"][0]["title"])

        only = await (await fake.dispatch_slash("ask", {"question": "@everyone"})).wait_for_reply(
            timeout=15)
        assert only["content"].startswith("Ask a question in words")
        assert int(only.get("flags") or 0) & EPHEMERAL and pinged_nobody(only)
        fake.assert_clean()


async def test_chat_questions_with_mentions_are_answered_as_without(
        encoder: Encoder, sample_index: Path, tmp_path: Path) -> None:
    async with running_docket(encoder, sample_index, tmp_path) as d:
        fake = d.fake
        me = fake.bot_user.mention

        async def answer_to(text: str) -> dict[str, Any]:
            sent = await fake.dispatch_message(text, author=fake.member)
            return await fake.wait_for_channel_message(
                fake.general, lambda m: m.get("referenced_message", {}).get("id") == sent["id"],
                timeout=15)

        plain = await answer_to(f"{me} {GETTY}")
        assert plain["embeds"], plain
        mentioned = await answer_to(f"{me} @everyone {GETTY} {fake.moderator_role.mention}")
        assert mentioned["embeds"], mentioned
        assert links(mentioned) == links(plain) and pinged_nobody(mentioned)

        for only in (f"{me} @everyone", f"{me} @here {fake.moderator_role.mention}",
                     f"{fake.general.mention} {me}"):
            hint = await answer_to(only)
            assert hint["content"].startswith("Ask me a question after the mention"), hint
            assert pinged_nobody(hint)
        fake.assert_clean()
