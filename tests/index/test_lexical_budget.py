"""The lexical query keeps the rarest words and names within a budget of scored rows."""

from __future__ import annotations

from index.query import parse
from index.ranking import lexical_query as _lexical_query
from index.text import stem


def _terms(match: str | None) -> set[str]:
    return set() if match is None else {p.strip().strip('"') for p in match.split(" OR ")}


def test_a_small_index_searches_every_word_and_name():
    q = parse("What did Judge Sidney Stein dismiss in the New York Times case?")
    dfs = {t: 120 for t in q.terms}
    assert _lexical_query(q, dfs, 148, 10) == q.fts


def test_rarest_words_are_kept_and_common_ones_left_to_dense_search():
    q = parse("Why did Anthropic settle with the authors over pirated books?")
    dfs = {stem("anthropic"): 3_000, stem("settle"): 900, stem("authors"): 20_000,
           stem("pirated"): 400, stem("books"): 15_000}
    kept = _terms(_lexical_query(q, dfs, 100_000, 5_000))
    assert kept == {"settle", "pirated", "anthropic"}
    # A tighter budget drops the commonest of those first.
    assert _terms(_lexical_query(q, dfs, 100_000, 1_500)) == {"settle", "pirated"}


def test_a_name_counts_its_rarest_word_and_the_reading_of_its_positions():
    q = parse("What did the US Copyright Office say?")
    dfs = {stem("us"): 11_000, stem("copyright"): 70_000, stem("office"): 20_000}
    assert _lexical_query(q, dfs, 100_000, 4_000) is None  # every piece is too costly
    cheap = {stem("us"): 300, stem("copyright"): 9_000, stem("office"): 2_000}
    kept = _terms(_lexical_query(q, cheap, 100_000, 4_000))
    assert "us copyright office" in kept and "us" in kept
    assert "copyright" not in kept


def test_words_in_more_than_a_tenth_of_passages_are_never_searched():
    q = parse("copyright lawsuit Getty")
    dfs = {stem("copyright"): 30_000, stem("lawsuit"): 12_000, stem("getty"): 50}
    assert _terms(_lexical_query(q, dfs, 100_000, 1_000_000)) == {"getty"}


def test_hyphenated_words_and_names_with_stopwords_are_costed_by_their_tokens():
    # FTS5 splits "ai-generated" into two tokens; "new" is a stopword, yet a token of the name.
    q = parse("Did the New York Times sue over ai-generated summaries?")
    dfs = {stem("new"): 60_000, stem("york"): 14_000, stem("times"): 15_000,
           stem("ai"): 70_000, stem("generated"): 9_000, stem("summaries"): 800,
           stem("sue"): 2_000}
    kept = _terms(_lexical_query(q, dfs, 100_000, 4_000))
    assert kept == {"summaries", "sue"}
