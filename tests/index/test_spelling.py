"""Misspelt question words on the sample corpus: corrected to what the index holds, and
only then; names, words the index holds and words that would change meaning stay."""

from __future__ import annotations

import dataclasses

import pytest

from index.service import DocketIndex
from index.spelling import correct

session_loop = pytest.mark.asyncio(loop_scope="session")
REDDIT_PERPLEXITY = "reddit-sues-perplexity"


@session_loop
async def test_a_misspelt_name_finds_its_story(index):
    response = await index.search("what does reddit want from perplexty in the lawsuit")
    assert not response.abstained and response.results
    assert REDDIT_PERPLEXITY in response.results[0].url
    assert "perplexity" in response.query  # what was searched is what the user sees
    assert "spelling" in response.timings_ms


@session_loop
async def test_only_typos_the_index_can_resolve_are_corrected(index):
    frequencies = index.snapshot.store.document_frequencies
    fixed = await correct("did antrhopic have to go to trial over the books it downloded",
                          index.speller, frequencies)
    assert fixed == "did anthropic have to go to trial over the books it downloaded"
    for untouched in (
        "did Antrhopic settle",  # a capitalized name is the unseen-name check's to judge
        "what did nvidia say about megatron",  # not English, but the index holds it
        "so a prompt doesnt make u the author",  # "doesnt" is not "does"
        "what is a zorblax",  # no one-edit word the index holds
    ):
        assert await correct(untouched, index.speller, frequencies) == untouched


@session_loop
async def test_a_question_of_gibberish_is_not_spell_checked_word_by_word(index):
    gibberish = " ".join(f"zq{chr(97 + i % 26)}{chr(97 + i // 26)}xv" for i in range(300))
    assert len(index.speller.candidates(gibberish)) <= 8
    response = await index.search(gibberish)
    assert response.abstained and not response.results


@session_loop
async def test_spelling_can_be_turned_off(sample_index, encoder, settings_for):
    base = settings_for(sample_index)
    settings = dataclasses.replace(base, search=dataclasses.replace(base.search, spelling=False))
    plain = await DocketIndex(settings, encoder).open()
    try:
        assert plain.speller is None
        response = await plain.search("what does reddit want from perplexty in the lawsuit")
        assert "perplexty" in response.query and "spelling" not in response.timings_ms
    finally:
        await plain.close()
