"""The domain thesaurus and the names a question gives that the index never saw.

A question may call a party by a nickname, a product, its chief executive or its city
("the mouse house", "the ChatGPT maker"): the thesaurus in config/aliases.toml adds the
name the articles use. A question may also name someone no article mentions: it is then
not about any story the index holds, and the answer says so above the closest coverage.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from index import aliases
from index.aliases import Aliases
from index.errors import ConfigError
from index.unseen import capitalized_names

session_loop = pytest.mark.asyncio(loop_scope="session")
REPO = Path(__file__).resolve().parents[2]

# --------------------------------------------------------------------------- the thesaurus

TABLE = {"Disney": ["mouse house", "house of mouse", "bob iger"],
         "OpenAI": ["chatgpt maker", "chatgpt", "sam altman"],
         "Microsoft": ["redmond", "redmond software giant"]}


def test_a_descriptor_adds_the_name_it_stands_for_once():
    table = Aliases.of(TABLE)
    assert table.expand("did the Mouse House sue?") == "did the Mouse House sue? (Disney)"
    assert (table.expand("what did the chatgpt maker and sam altman say?")
            == "what did the chatgpt maker and sam altman say? (OpenAI)")
    assert (table.expand("the mouse house and the chatgpt maker")
            == "the mouse house and the chatgpt maker (Disney, OpenAI)")


def test_a_name_already_in_the_question_is_not_added_again():
    table = Aliases.of(TABLE)
    assert table.expand("Disney, the mouse house, sued") == "Disney, the mouse house, sued"


def test_descriptors_match_whole_words_only():
    table = Aliases.of(TABLE)
    assert table.expand("chatgptx and redmondville") == "chatgptx and redmondville"
    assert table.expand("chatgpt's terms") == "chatgpt's terms (OpenAI)"


def test_the_longest_descriptor_wins():
    table = Aliases.of(TABLE)
    matches = [m.group(0) for m in table.matches("the Redmond software giant sued")]
    assert matches == ["Redmond software giant"]


def test_blanking_keeps_offsets_and_removes_only_descriptors():
    table = Aliases.of(TABLE)
    question = "Did Bob Iger’s studio sue Zorblatt?"
    blanked = table.blank(question)
    assert len(blanked) == len(question)
    assert "Iger" not in blanked and "Zorblatt" in blanked and blanked.startswith("Did ")


def test_the_bundled_thesaurus_loads_and_covers_the_parties():
    table = aliases.load(REPO / "config" / "aliases.toml")
    assert len(table.names) > 500
    assert table.expand("the mouse house").endswith("(Disney)")
    assert "OpenAI" in table.expand("what did the chatgpt maker say")


def test_a_missing_thesaurus_warns_once_and_changes_nothing(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="index.aliases"):
        table = aliases.load(tmp_path / "nope.toml")
    assert table.expand("the mouse house") == "the mouse house"
    assert len([r for r in caplog.records if "nope.toml" in r.getMessage()]) == 1


@pytest.mark.parametrize("content", ['[aliases]\n"Disney" = "mouse house"\n',
                                     '[aliases]\n"Disney" = [1, 2]\n',
                                     "[aliases\n", "aliases = 3\n"])
def test_a_malformed_thesaurus_is_a_clear_config_error(tmp_path, content):
    path = tmp_path / "aliases.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match="aliases"):
        aliases.load(path)


# --------------------------------------------------------------------------- names in a question

@pytest.mark.parametrize(("question", "names"), [
    ("What did Judge Zorblatt rule?", ["Judge", "Zorblatt"]),
    ("Who sued OpenAI in Munich? And why?", ["OpenAI", "Munich"]),  # "And" starts a sentence
    ("Getty sued Stability", ["Stability"]),  # the first word is capitalized anyway
    ("what did the EU say", []),  # two letters: too short to tell
    ("WHAT DID OPENAI SAY ABOUT SORA", []),  # shouting says nothing
    ("did Meta's lawyers win?", ["Meta"]),
    ("¿Qué pidió Japón a OpenAI?", ["Japón", "OpenAI"]),  # Spanish questions open with ¿
])
def test_names_are_the_capitalized_words_that_do_not_start_a_sentence(question, names):
    assert capitalized_names(question) == names


# --------------------------------------------------------------------------- over the sample index

@session_loop
async def test_a_nickname_finds_the_story_of_the_party_it_stands_for(index):
    response = await index.search("did the mouse house take the midjourney people to court?")
    assert not response.abstained and response.results
    assert "midjourney" in response.results[0].title.lower()
    assert "disney" in response.results[0].title.lower()


@session_loop
async def test_a_chief_executive_stands_for_the_company(index):
    response = await index.search("did bob iger's studio sue the chinese clip maker?")
    assert response.results and "minimax" in (response.results[0].title + response.results[0].snippet).lower()


@session_loop
async def test_a_name_no_article_mentions_is_flagged_above_the_closest_coverage(index):
    response = await index.search("What did Judge Zorblatt rule about OpenAI's training data?")
    assert response.abstained
    assert response.notice == "Nothing in the index mentions “Zorblatt”; the closest coverage:"
    assert response.results  # the closest coverage is still shown
    # Every word of the notice's name is truly absent from the index.
    assert not await index.snapshot.store.document_frequencies(["zorblatt"])


@session_loop
@pytest.mark.parametrize("question", [
    "What did Judge Alsup say about Anthropic's books?",  # names the articles use
    "What did Judge Alsop say about Anthropic's books?",  # one of them misspelt
    "What did Disney's lawyers say about Midjourney?",
])
async def test_known_or_misspelt_names_are_answered(index, question):
    response = await index.search(question)
    assert response.results and not (response.notice or "").startswith("Nothing in the index")


@session_loop
async def test_a_descriptor_is_not_taken_for_an_unknown_name(index):
    # "Zuckerberg" appears in no article, but the thesaurus knows whom he leads.
    assert not await index.snapshot.store.document_frequencies(["zuckerberg"])
    response = await index.search("Did Zuckerberg's company win its fair use case against the authors?")
    assert response.results and not (response.notice or "").startswith("Nothing in the index")


@session_loop
async def test_terms_with_a_prefix_are_the_indexed_words_that_start_with_it(index):
    store = index.snapshot.store
    terms = await store.terms_with_prefix("midj")
    assert terms and all(t.startswith("midj") for t in terms)
    assert await store.document_frequencies(terms[:5])
    assert await store.terms_with_prefix("zzzq") == []
    assert len(await store.terms_with_prefix("a", limit=3)) == 3
