"""Discord mentions are not words of a question: @everyone, @here, user, role and channel
mentions are removed before searching, so a question with a mention gets the answer the
question without it gets, and a question that was only mentions gets the help line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from conftest import REPO, make_settings

from index.embed import Encoder
from index.errors import QueryError
from index.query import parse
from index.results import SearchResponse
from index.service import DocketIndex
from index.text import clean_question, strip_mentions

GETTY = "what happened with getty?"
HELP = "Ask a question in words, for example: What did Japan ask OpenAI about Sora 2?"
ROLE, USER, CHANNEL = "<@&123456789012345678>", "<@234567890123456789>", "<#345678901234567890>"


@pytest.mark.parametrize(("text", "cleaned"), [
    (f"@everyone {GETTY}", GETTY),
    (f"@here {GETTY}", GETTY),
    (f"{GETTY} @everyone", GETTY),
    (f"{ROLE} {GETTY}", GETTY),
    (f"{USER} {GETTY}", GETTY),
    (f"<@!234567890123456789> {GETTY}", GETTY),  # the nickname form
    (f"{CHANNEL} {GETTY}", GETTY),
    (f"@everyone @here {ROLE}{USER} {GETTY} {CHANNEL}", GETTY),
    (f"@\u200beveryone {GETTY}", GETTY),  # an invisible character does not hide it
    (f"\uff20everyone {GETTY}", GETTY),  # nor a full-width @
    (f"@EVERYONE {GETTY}", GETTY),
    ("what did Getty say about @everyone?", "what did Getty say about ?"),
])
def test_mentions_are_removed_from_questions(text: str, cleaned: str) -> None:
    assert clean_question(text) == cleaned


@pytest.mark.parametrize("text", ["write to press@here.example about getty",
                                  "the <@ sign and a <#hashtag>", "everyone asks about getty",
                                  "what did the @getty account post?"])
def test_text_that_only_looks_like_a_mention_stays(text: str) -> None:
    assert strip_mentions(text) == text


@pytest.mark.parametrize("question", ["@everyone", "@here", ROLE, f"{USER} {CHANNEL}",
                                      "@everyone @here"])
def test_a_question_of_mentions_only_gets_the_help_line(question: str) -> None:
    with pytest.raises(QueryError) as caught:
        parse(question)
    assert str(caught.value) == HELP


@pytest_asyncio.fixture
async def index(sample_index: Path, encoder: Encoder) -> AsyncIterator[DocketIndex]:
    docket = await DocketIndex(make_settings(sample_index), encoder).open()
    try:
        yield docket
    finally:
        await docket.close()


def shown(response: SearchResponse) -> list[tuple[str, str, float]]:
    return [(r.url, r.snippet, r.relevance) for r in response.results]


@pytest.mark.asyncio
@pytest.mark.parametrize("question", [f"@everyone {GETTY}", f"@here {ROLE} {GETTY}",
                                      f"{USER} {GETTY} {CHANNEL}"])
async def test_a_mention_does_not_change_the_answer(index: DocketIndex, question: str) -> None:
    plain = await index.search(GETTY)
    assert not plain.abstained and plain.results
    mentioned = await index.search(question)
    assert not mentioned.abstained
    assert shown(mentioned) == shown(plain)


@pytest.mark.asyncio
async def test_searching_mentions_only_is_an_error_with_the_help_line(index: DocketIndex) -> None:
    response = await index.search("@everyone")
    assert response.error == HELP and response.results == []


def test_the_search_command_ignores_mentions(sample_index: Path, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO), "DOCKET_CONFIG": str(REPO / "config" / "settings.toml")}
    questions = f"{GETTY}\n@everyone {GETTY}\n@here\n"
    proc = subprocess.run([sys.executable, "-m", "index", "--data-dir", str(sample_index),
                           "search", "--json", "-"], input=questions, capture_output=True,
                          text=True, cwd=tmp_path, env=env, timeout=120)
    answers = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(answers) == 3, proc.stderr
    plain, mentioned, only = answers
    assert plain["results"] and not plain["abstained"]
    assert [(r["url"], r["relevance"]) for r in mentioned["results"]] == \
        [(r["url"], r["relevance"]) for r in plain["results"]]
    assert only["error"] == HELP and only["results"] == []
