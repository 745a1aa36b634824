"""/case end to end: autocomplete over the known cases, the timeline and its pages, the
"did you mean" for an unknown case, and the Timeline button under an /ask answer."""

from __future__ import annotations

from pathlib import Path

import pytest
from docket_harness import EPHEMERAL, custom_ids, running_docket

from bot import caserender
from index.embed import Encoder

pytestmark = pytest.mark.asyncio(loop_scope="function")

BARTZ = "Bartz v. Anthropic"


async def test_autocomplete_offers_the_known_cases_fuzzily(encoder: Encoder, sample_index: Path,
                                                           tmp_path: Path) -> None:
    async with running_docket(encoder, sample_index, tmp_path) as d:
        book = d.service.index.cases
        everything = await (await d.fake.dispatch_autocomplete(
            "case", {"name": ""}, focused="name")).wait_for_choices()
        # Nothing typed: the most recently active cases, as many as Discord shows.
        assert [c["value"] for c in everything] == [c.name for c in book.cases[:25]]
        typo = await (await d.fake.dispatch_autocomplete(
            "case", {"name": "antropic"}, focused="name")).wait_for_choices()
        names = [c["value"] for c in typo]
        assert BARTZ in names and all("Anthropic" in n for n in names)
        d.fake.assert_clean()


async def test_case_shows_the_timeline_newest_first_with_pages(encoder: Encoder, sample_index: Path,
                                                              tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(caserender, "PAGE", 2)  # the sample's cases are short: two per page
    async with running_docket(encoder, sample_index, tmp_path) as d:
        rec = await d.fake.dispatch_slash("case", {"name": "bartz v anthropic"})
        reply = await rec.wait_for_reply(timeout=15)
        assert rec.callback_type == 5  # deferred first
        embed = reply["embeds"][0]
        assert embed["title"] == BARTZ
        desc = embed["description"]
        assert desc.startswith("**Latest** (25 Sep 2025): “")
        assert desc.count("\n> ") == 2 and "page 1 of 2" in embed["footer"]["text"]
        assert "3 stories" in embed["footer"]["text"]
        [more] = custom_ids(reply)
        page2 = await (await d.fake.dispatch_component(reply, more, user=d.fake.member)).wait_for_reply(
            timeout=15)
        assert page2["flags"] & EPHEMERAL and "page 2 of 2" in page2["embeds"][0]["footer"]["text"]
        assert page2["embeds"][0]["description"].count("\n> ") == 1  # the oldest story
        assert "25 Jun 2025" in page2["embeds"][0]["description"]
        assert not custom_ids(page2)  # the last page has no More
        d.fake.assert_clean()


async def test_an_unknown_case_names_the_closest(encoder: Encoder, sample_index: Path,
                                                 tmp_path: Path) -> None:
    async with running_docket(encoder, sample_index, tmp_path) as d:
        reply = await (await d.fake.dispatch_slash("case", {"name": "barts v antropik zz"})).wait_for_reply(
            timeout=15)
        assert reply["content"].startswith("No case called “barts v antropik zz”. Closest: ")
        assert BARTZ in reply["content"] and not reply.get("embeds")
        d.fake.assert_clean()


async def test_an_ask_naming_a_case_offers_its_timeline(encoder: Encoder, sample_index: Path,
                                                        tmp_path: Path) -> None:
    async with running_docket(encoder, sample_index, tmp_path) as d:
        named = await (await d.fake.dispatch_slash(
            "ask", {"question": "what's the latest in bartz v anthropic"})).wait_for_reply(timeout=15)
        timeline_ids = [c for c in custom_ids(named) if c.startswith("docket:case:")]
        assert timeline_ids == ["docket:case:0:bartz-v-anthropic"]
        shown = await (await d.fake.dispatch_component(named, timeline_ids[0],
                                                       user=d.fake.member)).wait_for_reply(timeout=15)
        assert shown["flags"] & EPHEMERAL and shown["embeds"][0]["title"] == BARTZ
        plain = await (await d.fake.dispatch_slash(
            "ask", {"question": "What did Japan ask OpenAI about Sora 2?"})).wait_for_reply(timeout=15)
        assert not [c for c in custom_ids(plain) if c.startswith("docket:case:")]
        d.fake.assert_clean()
