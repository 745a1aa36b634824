"""Quotes as a reader sees them in Discord and in the terminal session: whole words, one
ellipsis rule, lines wrapped by what the eye sees, one date format, and a /more that says
when everything was shown."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from docket_harness import bot_config, index_settings, write_article

from bot import render, terminal, textforms
from bot.service import DocketService, open_service
from index import cli
from index.embed import Encoder
from index.ingest import ingest
from index.results import Result, SearchResponse

ANSI = re.compile(r"\x1b\[[0-9;]*m")

# Every paragraph of these articles is one sentence, and one line of the stored text.
SORA_PARAGRAPHS = [  # short enough that any two fit in a lede (display.LEDE_CHARS)
    "The weather in San Francisco was mild this week, and several downtown offices reopened.",
    "OpenAI said its Sora video app will let film studios opt in before their characters appear.",
    "Japanese publishers had asked for the change, citing videos that copied well-known characters.",
]
LABEL_PARAGRAPHS = [
    "An independent record label has licensed its whole back catalogue to an AI music company "
    "for training.",
    "The deal pays the label a share of subscription revenue, and artists can withdraw their "
    "recordings from the training set at any time by writing to the label.",
]


@pytest.fixture(scope="module")
def quotes_index(tmp_path_factory: pytest.TempPathFactory, encoder: Encoder) -> Path:
    """A data directory with two short articles whose paragraphs are single sentences."""
    root = tmp_path_factory.mktemp("quotes")
    write_article(root / "src", "sora-opt-in", title="OpenAI gives studios an opt-in for Sora",
                  url="https://wire.example/sora-opt-in", published="2025-10-20",
                  outlet="Example Wire", body="\n\n".join(SORA_PARAGRAPHS))
    write_article(root / "src", "label-licence", title="A label licenses its catalogue for AI",
                  url="https://wire.example/label-licence", published="2025-09-01",
                  outlet="Music Desk", body="\n\n".join(LABEL_PARAGRAPHS))
    summary = asyncio.run(ingest([str(root / "src")], index_settings(root / "var"), encoder))
    assert summary.failed == 0, summary.failures
    return root / "var"


@pytest_asyncio.fixture(loop_scope="function")
async def service(quotes_index: Path, encoder: Encoder,
                  tmp_path: Path) -> AsyncIterator[DocketService]:
    svc = await open_service(index_settings(quotes_index), bot_config(state_dir=tmp_path), encoder)
    try:
        yield svc
    finally:
        await svc.close()


def result(snippet: str, *, lead: bool = False, tail: bool = False,
           highlights: list[tuple[int, int]] | None = None,
           published: str | None = "2025-10-06") -> Result:
    return Result(url="https://example.com/a", title="A title", outlet="Outlet",
                  published=published, snippet=snippet, score=0.1, relevance=0.7,
                  highlights=highlights or [], leading_ellipsis=lead, trailing_ellipsis=tail)


def response(*results: Result, notice: str | None = None) -> SearchResponse:
    return SearchResponse(query="What happened?", abstained=False, results=list(results),
                          notice=notice, passages_searched=10, snapshot="snap")


def terminal_quote(text: str) -> str:
    """The first quote of a terminal answer, joined back into one line."""
    start = text.index("“")
    return " ".join(ANSI.sub("", text[start:text.index("”", start) + 1]).split())


def discord_quote(description: str) -> str:
    lines = [line.removeprefix(">").strip() for line in description.split("\n")
             if line.startswith(">")]
    # Bold markers and escapes are markup: the reader sees the characters they protect.
    return " ".join(re.sub(r"\\(.)", r"\1", " ".join(lines).replace("**", "")).split())


def cli_quote(text: str) -> str:
    start = text.index("“")
    return " ".join(text[start:text.index("”", start) + 1].split())


def terminal_ledes(text: str) -> list[str]:
    """The quoted ledes of a terminal /latest, each joined back into one line."""
    quotes: list[str] = []
    current: list[str] | None = None
    for line in ANSI.sub("", text).splitlines():
        stripped = line.strip()
        if current is None and stripped.startswith("“"):
            current = []
        if current is not None:
            current.append(stripped)
            if stripped.endswith("”"):
                quotes.append(" ".join(current))
                current = None
    return quotes


# -- /more (item: "Nothing more: ask a question first" after a one-result answer) ----------

@pytest.mark.asyncio(loop_scope="function")
async def test_more_after_every_result_was_shown_says_that_was_everything(
        service: DocketService) -> None:
    session = terminal.Session(service)
    first = await session.handle("What did OpenAI change about Sora?")
    assert first is not None and "OpenAI gives studios an opt-in for Sora" in first
    assert "/more" not in first  # everything it found is on screen
    more = await session.handle("/more")
    assert more is not None
    assert "ask a question first" not in more
    assert more == "That was everything the index found for “What did OpenAI change about Sora?”."


@pytest.mark.asyncio(loop_scope="function")
async def test_more_before_any_question_asks_for_one(service: DocketService) -> None:
    session = terminal.Session(service)
    assert await session.handle("/more") == "Nothing more: ask a question first."


# -- whole words --------------------------------------------------------------------------

def test_a_long_latest_lede_is_cut_at_a_word_in_the_terminal_and_in_discord() -> None:
    lede = ("When OpenAI launched Sora 2 on September 30, it initially told rights holders to "
            "opt out if they did not want their characters generated, prompting a backlash from "
            "studios, guilds, agencies and a long list of publishers who wrote to the company "
            "within days and asked for an opt-in, which the company promised in a post that "
            "also described new controls for the likeness of living people and their voices")
    r = result(lede)
    shown_terminal = terminal_ledes(textforms.latest_text([r], topic="sora", days=None))[0]
    shown_discord = discord_quote(render.latest_embed([r], topic="sora", days=None).description
                                  or "")
    for shown in (shown_terminal, shown_discord):
        body = shown.removeprefix("“").removesuffix("”")
        assert body.endswith("…"), shown
        kept = body.removesuffix("…")
        assert lede.startswith(kept) and lede[len(kept)] == " ", shown  # a whole word


@pytest.mark.asyncio(loop_scope="function")
async def test_latest_sora_in_the_sample_index_quotes_whole_words(
        sample_index: Path, encoder: Encoder, tmp_path: Path) -> None:
    svc = await open_service(index_settings(sample_index), bot_config(state_dir=tmp_path),
                             encoder)
    try:
        out = await terminal.Session(svc).handle("/latest sora")
        results = await svc.latest("sora")
    finally:
        await svc.close()
    assert out is not None and results
    quotes = terminal_ledes(out)
    assert len(quotes) == len(results)
    for shown, r in zip(quotes, results, strict=True):
        kept = shown.removeprefix("“").removesuffix("”").removeprefix("…").removesuffix("…")
        snippet = " ".join(r.snippet.split())
        assert snippet.startswith(kept), (shown, snippet)
        assert len(kept) == len(snippet) or snippet[len(kept)] == " ", shown


# -- one ellipsis rule ----------------------------------------------------------------------

def test_a_quote_reads_the_same_in_discord_the_terminal_and_the_cli() -> None:
    snippet = ("The agreement marks a turn in the relationship between Hollywood and Sora. "
               "Rights holders must now opt in.")
    for lead, tail in ((True, True), (True, False), (False, True), (False, False)):
        r = result(snippet, lead=lead, tail=tail)
        shown = {
            "discord": discord_quote(render.answer_embed(response(r)).description or ""),
            "terminal": terminal_quote(textforms.answer_text(response(r))),
            "cli": cli_quote(cli.format_response(response(r))),
        }
        expected = ("“" + ("…" if lead else "") + snippet + ("…" if tail else "") + "”")
        assert shown == dict.fromkeys(shown, expected), (lead, tail)


@pytest.mark.parametrize("words", range(8, 40))
def test_a_trailing_ellipsis_never_wraps_onto_a_line_of_its_own(words: int) -> None:
    snippet = " ".join(["copyright"] * words) + "."
    text = textforms.answer_text(response(result(snippet, lead=True, tail=True)))
    for line in text.splitlines():
        assert line.strip() not in {"…", "…”", "“…"}, text


@pytest.mark.asyncio(loop_scope="function")
async def test_latest_quotes_mark_no_omission_for_whole_paragraphs(service: DocketService) -> None:
    # Every paragraph here is one sentence, so every quote of whole sentences is made of
    # whole paragraphs: without a topic each lede is its article's first paragraph; on
    # "Sora" the quote starts at a later paragraph. Nothing is left out of any of them.
    everything = await service.latest(None)
    assert sorted(r.snippet for r in everything) == sorted([LABEL_PARAGRAPHS[0],
                                                            SORA_PARAGRAPHS[0]])
    on_sora = await service.latest("Sora")
    assert on_sora and on_sora[0].snippet_start > 0  # quoted from the middle of the article
    for topic, results in ((None, everything), ("Sora", on_sora)):
        for r in results:
            assert all(line in LABEL_PARAGRAPHS + SORA_PARAGRAPHS
                       for line in r.snippet.split("\n")), r.snippet
        expected = sorted("“" + " ".join(r.snippet.split()) + "”" for r in results)
        assert sorted(terminal_ledes(textforms.latest_text(results, topic=topic,
                                                           days=None))) == expected
        description = render.latest_embed(results, topic=topic, days=None).description or ""
        assert sorted(discord_quote(block) for block in description.split("\n\n")) == expected
        assert sorted(cli_quote(cli.format_result(i, r))
                      for i, r in enumerate(results, 1)) == expected


# -- wrapping and dates ---------------------------------------------------------------------

def test_terminal_wraps_by_visible_width_not_by_escape_codes() -> None:
    snippet = ("Getty Images said on Tuesday that it would appeal the ruling of the High Court "
               "in London, which found that Stability AI did not infringe its copyright when "
               "it trained the Stable Diffusion model on millions of photographs.")
    highlights = [(m.start(), m.end()) for m in re.finditer(r"Getty|Images|Stability|AI|"
                                                            r"Stable|Diffusion|copyright", snippet)]
    r = result(snippet, highlights=highlights)
    plain = textforms.answer_text(response(r), color=False)
    colored = textforms.answer_text(response(r), color=True)
    assert "\x1b[1m" in colored
    assert ANSI.sub("", colored) == plain  # the same line breaks, bold or not
    for line in plain.splitlines()[:4]:
        assert len(line) <= textforms.WIDTH


@pytest.mark.parametrize("prefix", range(60, 100))
def test_hyphenated_words_are_never_broken_across_lines(prefix: int) -> None:
    snippet = ("x" * prefix)[:prefix - 10] + " a well-known, court-appointed, opt-out-only "\
              "first-of-its-kind ruling on AI-generated art."
    text = textforms.answer_text(response(result(snippet)))
    for word in ("well-known,", "court-appointed,", "opt-out-only", "first-of-its-kind",
                 "AI-generated"):
        assert word in text, text


def test_notice_dates_read_like_result_dates() -> None:
    notice = ("The newest report on this in the index is from 2025-03-04; there may be later "
              "developments.")
    r = result("OpenAI released Sora 2 on September 30.", published="2025-03-04")
    shown = {
        "discord": render.answer_embed(response(r, notice=notice)).description or "",
        "terminal": textforms.answer_text(response(r, notice=notice)),
        "cli": cli.format_response(response(r, notice=notice)),
    }
    for where, text in shown.items():
        assert "2025-03-04" not in text, where
        assert text.count("4 Mar 2025") == 2, (where, text)  # the notice and the result
