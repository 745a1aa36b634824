"""How results read in the CLI (and, through `index.display`, everywhere): the quote's
ellipses mark what it leaves out of its paragraph, cuts fall after whole sentences or
words, and dates read "3 Oct 2025" in results and notices alike."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from conftest import make_settings

from index import cli, display
from index.embed import Encoder
from index.ingest import ingest
from index.service import DocketIndex

# One line of stored text per paragraph. The Getty article's first paragraph has two
# sentences; each of the Sora article's paragraphs is one.
GETTY = ["Getty Images said it would appeal the High Court ruling that cleared Stability AI of "
         "most of its claims. The company did not say when it would file its appeal papers.",
         "The court had found that the Stable Diffusion model does not store or reproduce the "
         "photographs it was trained on, so it is not an infringing copy under UK law."]
SORA = ["The weather in San Francisco was mild this week, and several downtown offices reopened "
        "after long renovations that had kept staff at home since the spring.",
        "OpenAI said its Sora video app will let film studios and other rights holders opt in "
        "before their characters can be generated, reversing the opt-out policy it launched with.",
        "Japanese publishers and the Motion Picture Association had asked for the change within "
        "days of the launch, citing videos that copied well-known characters."]


def write(directory: Path, slug: str, title: str, published: str, paragraphs: list[str]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{slug}.md").write_text(
        f'---\ntitle: "{title}"\nurl: https://wire.example/{slug}\npublished: {published}\n'
        f"source: Example Wire\n---\n\n" + "\n\n".join(paragraphs) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def display_index(tmp_path_factory: pytest.TempPathFactory, encoder: Encoder) -> Path:
    root = tmp_path_factory.mktemp("display")
    write(root / "src", "getty-appeal", "Getty Images to appeal UK ruling", "2025-11-10", GETTY)
    write(root / "src", "sora-opt-in", "OpenAI gives studios an opt-in for Sora", "2025-10-20",
          SORA)
    summary = asyncio.run(ingest([str(root / "src")], make_settings(root / "var"), encoder))
    assert summary.failed == 0, summary.failures
    return root / "var"


@pytest_asyncio.fixture(loop_scope="function")
async def index(display_index: Path, encoder: Encoder) -> AsyncIterator[DocketIndex]:
    opened = await DocketIndex(make_settings(display_index), encoder).open()
    try:
        yield opened
    finally:
        await opened.close()


@pytest.mark.asyncio(loop_scope="function")
async def test_latest_marks_only_what_a_quote_leaves_out_of_its_paragraph(
        index: DocketIndex) -> None:
    shown = {r.title: cli.format_result(1, r).splitlines()[0] for r in await index.latest()}
    # The Getty lede is the first of two sentences: the paragraph goes on after it.
    assert shown["Getty Images to appeal UK ruling"] == (
        "1. “Getty Images said it would appeal the High Court ruling that cleared Stability AI "
        "of most of its claims.…”")
    # The Sora lede is a whole paragraph: nothing left out, no "…".
    assert shown["OpenAI gives studios an opt-in for Sora"] == f"1. “{SORA[0]}”"
    # On "Sora" the quote starts at a later paragraph, and (each paragraph being one
    # sentence) is made of whole paragraphs: nothing left out, no "…".
    on_sora = await index.latest("Sora")
    assert on_sora and on_sora[0].snippet_start > 0
    assert all(line in SORA for line in on_sora[0].snippet.split("\n"))
    whole = " ".join(on_sora[0].snippet.split())
    assert cli.format_result(1, on_sora[0]).splitlines()[0] == f"1. “{whole}”"


@pytest.mark.asyncio(loop_scope="function")
async def test_cli_dates_read_like_the_bot_in_results_and_notices(index: DocketIndex) -> None:
    response = await index.search("What is the latest on Getty Images?", now=dt.date(2030, 1, 1))
    assert response.notice and "2025-11-10" in response.notice  # the index speaks ISO...
    text = cli.format_response(response)
    assert "2025-11-10" not in text  # ...people read one format, the bot's
    assert "from 10 Nov 2025; there may be later developments" in text
    assert "Getty Images to appeal UK ruling · Example Wire · 10 Nov 2025" in text
    latest = "\n".join(cli.format_result(i, r) for i, r in enumerate(await index.latest(), 1))
    assert "· 20 Oct 2025" in latest and "2025-10-20" not in latest


def test_a_cut_never_ends_at_an_abbreviation_that_only_looks_like_a_sentence_end() -> None:
    from bot import safetext

    text = ("A judge ruled in Bartz v. Anthropic Holdings that training was fair use under the "
            "law. More words follow here.")
    assert safetext.fit(text, 40) == "A judge ruled in Bartz v. Anthropic…"
    assert display.shorten(text, 100) == (text[:text.index(" More")], True)  # whole sentence


@pytest.mark.parametrize(("text", "start", "end", "expected"), [
    ("One. Two.\nThree.", 0, 4, (False, True)),     # first sentence of a longer paragraph
    ("One. Two.\nThree.", 5, 9, (True, False)),     # last sentence of it
    ("One. Two.\nThree.", 10, 16, (False, False)),  # a whole paragraph
    ("One. Two.\nThree.", 0, 16, (False, False)),   # everything
    ("One.\n  Two.  \nThree.", 7, 11, (False, False)),  # spaces around a paragraph
])
def test_omissions_are_judged_by_paragraph(text: str, start: int, end: int,
                                           expected: tuple[bool, bool]) -> None:
    assert display.omissions(text, start, end) == expected


def test_ellipses_touch_the_text_and_are_never_doubled() -> None:
    assert display.quoted(" Two. ", lead=True, tail=True) == "“…Two.…”"
    assert display.quoted("…already cut…", lead=True, tail=True) == "“…already cut…”"
    assert display.quoted("**bold**", lead=True, tail=False) == "“…**bold**”"
    assert display.quoted("as is", lead=False, tail=False) == "“as is”"


@pytest.mark.parametrize(("value", "shown"), [("2025-10-03", "3 Oct 2025"),
                                               ("2025-10-03T10:00:00Z", "3 Oct 2025"),
                                               (None, "undated"), ("soon", "undated")])
def test_human_date(value: str | None, shown: str) -> None:
    assert display.human_date(value) == shown


def test_dates_in_running_text() -> None:
    assert display.human_dates("from 2025-03-04; not 2025-13-45, at 2025-03-04T10:00:00Z.") == \
        "from 4 Mar 2025; not 2025-13-45, at 4 Mar 2025."
