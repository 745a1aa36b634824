"""Search over the sample index: quality on the development set, verbatim snippets, one hit per
story, dates and "latest", abstention, hostile questions, and the CLI's JSON."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
import pytest_asyncio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from index import aliases
from index.evaluate import default_qa_path, evaluate, load_qa
from index.query import parse
from index.service import DocketIndex
from index.sources import sample_dir
from index.text import stem, words

session_loop = pytest.mark.asyncio(loop_scope="session")
REPO = Path(__file__).resolve().parents[2]

ANTHROPIC_AP = ("https://www.local10.com/business/2025/09/08/judge-reviews-15b-anthropic-settlement-"
                "proposal-with-authors-over-pirated-books-for-ai-training")
ANTHROPIC_SYNDICATED = ("https://www.springfieldnewssun.com/news/nation-world/judge-reviews-15b-"
                        "anthropic-settlement-proposal-with-authors-over-pirated-books-for-ai-"
                        "training/2V6VI4RRDNLO5P2RDIODXJRYGA")
ANTHROPIC_APPROVAL = ("https://860amtheanswer.com/business/judge-approves-15-billion-copyright-"
                      "settlement-between-ai-company-anthropic-and/9643064e847a5e88ef6ee8b620b3a44c")


@pytest.fixture(scope="module")
def texts(sample_index, live) -> dict[int, str]:
    """Every article's stored text by article id."""
    return {row["id"]: row["text"] for row in live(sample_index).query("SELECT id, text FROM articles")}


def assert_verbatim(response, texts) -> None:
    """Every quote is the article's own text: one span, or two joined by " … "."""
    for r in response.results:
        text = texts[r.article_id]
        assert r.snippet, f"empty snippet for {r.url}"
        assert 1 <= len(r.parts) <= 2, r.parts
        pieces = [text[s:e] for s, e in r.parts]
        assert all(p and p in text for p in pieces)
        assert r.snippet == " … ".join(pieces), f"snippet is not the article's text: {r.snippet!r}"
        assert r.snippet_start == r.parts[0][0]
        assert r.parts == sorted(r.parts) and all(a[1] < b[0] for a, b in zip(r.parts, r.parts[1:], strict=False))


# --------------------------------------------------------------------------- development set

@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def dev_report(index):
    return await evaluate(index, load_qa(default_qa_path()))


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def dev_responses(index):
    """Every development question's response (k=5), asked once."""
    return [(item, await index.search(item["question"], k=5)) for item in load_qa(default_qa_path())]


@pytest.mark.parametrize(("measure", "floor"), [
    ("hit@5", 0.95), ("hit@1", 0.80), ("abstain_accuracy", 0.90), ("answered_rate", 0.95),
    ("snippet_contains", 0.25),  # a floor, far below the spec's 0.80: fails if snippets break
])
def test_dev_set_quality_holds(dev_report, measure, floor):
    assert dev_report[measure] >= floor, {k: dev_report[k] for k in (
        "hit@1", "hit@5", "mrr", "snippet_contains", "answered_rate", "abstain_accuracy")}


def test_dev_set_report_has_the_documented_keys(dev_report):
    assert {"hit@1", "hit@5", "mrr", "snippet_contains", "abstain_accuracy", "answered_rate",
            "latency_ms_p50", "latency_ms_p95", "by_kind"} <= set(dev_report)
    assert len(dev_report["by_kind"]) >= 2


def test_snippets_are_exact_substrings_for_every_dev_question(dev_responses, texts):
    answered = 0
    for _, response in dev_responses:
        assert_verbatim(response, texts)
        answered += bool(response.results)
    assert answered >= 0.8 * len(dev_responses)


def test_snippets_are_short_and_end_at_sentence_boundaries(dev_responses, texts):
    for _, response in dev_responses:
        for r in response.results:
            assert len(r.snippet) <= 600, r.snippet  # ~400 chars, whole sentences
            text = texts[r.article_id]
            start, end = r.parts[0][0], r.parts[-1][1]
            # "…" exactly where the quote leaves out part of its paragraph.
            before, after = text[:start].rstrip(" "), text[end:].lstrip(" ")
            assert r.leading_ellipsis == (bool(before) and not before.endswith("\n"))
            assert r.trailing_ellipsis == (bool(after) and not after.startswith("\n"))
            assert text[end - 1] in ".!?\"”’)'" or end == len(text.rstrip()), text[end - 20:end]


def test_highlights_mark_question_words_inside_the_snippet(dev_responses):
    # A descriptor ("the claude maker") is searched, and highlighted, as the name it stands
    # for; a misspelt word ("downloded") as its correction, which the response echoes.
    thesaurus = aliases.load(REPO / "config" / "aliases.toml")
    marked = 0
    for _item, response in dev_responses:
        question_stems = {stem(w) for w in words(thesaurus.expand(response.query))}
        for r in response.results:
            for start, end in r.highlights:
                assert 0 <= start < end <= len(r.snippet)
                assert {stem(w) for w in words(r.snippet[start:end])} & question_stems
                marked += 1
    assert marked > 0


def test_every_result_carries_an_iso_publication_date(dev_responses):
    for _, response in dev_responses:
        for r in response.results:
            assert r.published and dt.date.fromisoformat(r.published)


def test_no_answer_shows_two_passages_of_one_article_or_story(dev_responses):
    for _, response in dev_responses:
        urls = [r.url for r in response.results]
        assert len(urls) == len(set(urls))
        grouped = {u for r in response.results for u in r.also_reported_by}
        assert not grouped & set(urls), "a story appeared twice"


# --------------------------------------------------------------------------- stories and dates

@session_loop
async def test_syndicated_copies_appear_once_with_also_reported_by(index):
    response = await index.search("How much is Anthropic paying authors per book in the settlement?",
                                  k=5)
    copies = [r for r in response.results if r.url in {ANTHROPIC_AP, ANTHROPIC_SYNDICATED}]
    assert len(copies) == 1
    (shown,) = copies
    other = ANTHROPIC_SYNDICATED if shown.url == ANTHROPIC_AP else ANTHROPIC_AP
    assert shown.also_reported_by == [other]
    assert len(shown.also_reported_by_outlets) == 1
    assert shown.also_reported_by_outlets[0] != shown.outlet


@session_loop
async def test_latest_question_puts_the_newest_article_of_the_thread_first(index):
    response = await index.search("What's the latest in the Anthropic authors copyright case?")
    assert not response.abstained and response.latest
    assert response.results[0].url == ANTHROPIC_APPROVAL
    thread = [r for r in response.results if "anthropic" in r.title.lower()]
    assert response.results[0].published == max(r.published for r in thread)


@session_loop
async def test_stale_latest_answer_says_how_old_the_newest_evidence_is(index):
    response = await index.search("What's the latest in the Anthropic authors copyright case?",
                                  now=dt.date(2026, 6, 1))
    assert response.notice and "2025-09-25" in response.notice


@session_loop
async def test_latest_lists_stories_newest_first(index, sample_index, live):
    results = await index.latest(count=10, now=dt.date(2026, 1, 1))
    dates = [r.published for r in results]
    assert len(results) == 10
    assert dates == sorted(dates, reverse=True)
    newest = live(sample_index).query("SELECT max(published) FROM articles")[0][0]
    assert dates[0] == newest


@session_loop
async def test_latest_with_days_returns_only_that_window(index):
    results = await index.latest(days=60, count=20, now=dt.date(2025, 12, 31))
    assert results
    assert all("2025-11-01" <= r.published <= "2025-12-31" for r in results)


@session_loop
async def test_latest_on_a_topic_is_on_topic_and_newest_first(index, texts):
    results = await index.latest("Midjourney", count=5, now=dt.date(2026, 1, 1))
    assert len(results) >= 2
    assert all("Midjourney" in texts[r.article_id] for r in results)
    dates = [r.published for r in results]
    assert dates == sorted(dates, reverse=True)


@session_loop
async def test_latest_shows_syndicated_copies_once(index):
    results = await index.latest(count=50, now=dt.date(2026, 1, 1))
    copies = [r for r in results if r.url in {ANTHROPIC_AP, ANTHROPIC_SYNDICATED}]
    assert len(copies) == 1 and len(copies[0].also_reported_by) == 1


@session_loop
@pytest.mark.parametrize("topic", ["😀", "?!", "\u200b"])
async def test_latest_on_a_wordless_topic_lists_nothing(index, topic):
    # No word to match: no story (not an error, and not every story as if no topic was given).
    assert await index.latest(topic, count=5) == []
    assert len(await index.latest(count=5)) == 5


@session_loop
async def test_year_in_the_question_filters_results_to_that_year(index):
    response = await index.search("What AI copyright lawsuits were filed in 2024?", k=5)
    assert response.date_filter and not response.abstained
    assert response.results and all(r.published.startswith("2024-") for r in response.results)


@session_loop
async def test_year_without_matching_reports_says_so(index):
    # The story is from October 2025 and nothing about it from 2023: the closest reports are
    # shown with a notice saying that none matches the year, rather than a silent abstention.
    response = await index.search("What did Japan ask OpenAI about Sora 2 in 2023?")
    assert not response.abstained and response.error is None
    assert response.results and "japanese-government-officials" in response.results[0].url
    assert not [r.published for r in response.results if r.published.startswith("2023-")]
    assert response.notice == "Nothing in the index matches in 2023; showing the closest reports."


@session_loop
async def test_since_a_month_returns_nothing_older(index):
    response = await index.search("What happened with AI copyright lawsuits since October 2025?",
                                  k=5, now=dt.date(2026, 1, 1))
    assert response.results
    assert all(r.published >= "2025-10-01" for r in response.results)


# --------------------------------------------------------------------------- abstention

@session_loop
@pytest.mark.parametrize("question", [
    "What is the best ukulele for a beginner?",
    "Who won the football match last night?",
    "How do I bake sourdough bread at home?",
])
async def test_off_topic_questions_abstain(index, question):
    response = await index.search(question)
    assert response.abstained and response.results == [] and response.error is None


# --------------------------------------------------------------------------- hostile questions

NO_WORDS = ["", "   \t\n  ", "?!.,;:()[]{}", "😀🎉🤖", "\u200b\u200c\u200d\u2060\ufeff",
            "\u202e\u202d\u200f", '"', "*", "-", ":", "((((", "\x00\x01\x02"]

HOSTILE = [
    "x" * 10_000,
    "copyright " * 1_000,
    'OpenAI "Sora 2',
    "Sora* -Midjourney",
    "title: Getty body: Stability",
    "NEAR(Getty Stability",
    "Getty AND OR NOT Stability",
    "fair use)) (( (Bartz",
    "'; DROP TABLE articles; --",
    "1' OR '1'='1",
    "What did Japan\u200b ask OpenAI\u200f about Sora\u202e 2?",
    "\u0645\u0627\u0630\u0627 \u0637\u0644\u0628\u062a \u0627\u0644\u064a\u0627\u0628\u0627\u0646 "
    "\u0645\u0646 OpenAI\u061f",
    "日本政府はOpenAIに何を求めましたか",
    "¿Qué pidió Japón a OpenAI sobre Sora 2?",
    "NEAR(",
    "AND OR NOT",
    "^ $ | \\ / ~ ` @ # % & + = < >",
]


@session_loop
@pytest.mark.parametrize("question", NO_WORDS, ids=lambda q: repr(q)[:30])
async def test_question_without_words_gets_an_error_message(index, question):
    response = await index.search(question)
    assert response.error and response.abstained and response.results == []


@session_loop
@pytest.mark.parametrize("question", HOSTILE, ids=lambda q: repr(q)[:30])
async def test_hostile_question_gets_a_clear_result(index, texts, question):
    response = await index.search(question)
    assert response.error or response.abstained or response.results
    # Results beside an abstention are the closest coverage, introduced by a notice saying so.
    assert not (response.abstained and response.results) or response.notice
    assert_verbatim(response, texts)
    assert len(response.query) <= 1000


@session_loop
@pytest.mark.parametrize("question", ['OpenAI "Sora 2', "Sora* -Midjourney", "NEAR(Getty Stability",
                                      "Getty AND OR NOT Stability", "fair use)) (( (Bartz",
                                      "title: Getty body: Stability", '"Bartz v. Anthropic"'])
async def test_fts_syntax_in_a_question_is_searched_as_text(index, question):
    response = await index.search(question, min_relevance=-1.0)
    assert response.error is None and response.results
    # The words reach the full-text index as words: the MATCH finds passages, never a syntax error.
    query = parse(question)
    hits = await index.snapshot.store.lexical(query.fts, 10, 2.0)
    assert hits


@session_loop
async def test_sql_in_a_question_changes_nothing(index, sample_index, live):
    before = live(sample_index).count("articles")
    await index.search("'; DROP TABLE articles; --")
    assert live(sample_index).count("articles") == before
    response = await index.search("What did Japan ask OpenAI about Sora 2?")
    assert response.results and "gamesradar" in response.results[0].url


@session_loop
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(question=st.text())
async def test_any_text_never_raises_and_snippets_stay_verbatim(index, texts, question):
    response = await index.search(question)
    assert response.error or response.abstained or response.results
    assert_verbatim(response, texts)


# --------------------------------------------------------------------------- CLI JSON

RESULT_FIELDS = {"url", "title", "outlet", "published", "snippet", "score", "also_reported_by"}


def test_search_json_has_the_documented_fields(sample_index, run_cli):
    done = run_cli(sample_index, "search", "--json", "What did Japan ask OpenAI about Sora 2?")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1
    data = json.loads(lines[0])
    assert {"query", "abstained", "results"} <= set(data)
    assert data["query"] == "What did Japan ask OpenAI about Sora 2?"
    assert data["abstained"] is False and data["results"]
    for result in data["results"]:
        assert RESULT_FIELDS <= set(result)
        assert isinstance(result["also_reported_by"], list)
        assert isinstance(result["score"], float)
        assert result["published"] is None or re.fullmatch(r"\d{4}-\d{2}-\d{2}", result["published"])


def test_search_json_from_stdin_prints_one_object_per_line(sample_index, run_cli):
    questions = ["What did Japan ask OpenAI about Sora 2?", "",
                 "Who won the football match last night?", "😀", "How much is Anthropic paying "
                 "authors per book in the settlement?"]
    done = run_cli(sample_index, "search", "--json", "-", input="\n".join(questions) + "\n")
    assert done.returncode == 0, done.stderr
    objects = [json.loads(line) for line in done.stdout.splitlines()]
    assert [o["query"] for o in objects] == questions
    assert [o["abstained"] for o in objects] == [False, True, True, True, False]
    assert objects[1]["error"] and objects[3]["error"]
    anthropic = [r for r in objects[4]["results"] if r["url"] in {ANTHROPIC_AP, ANTHROPIC_SYNDICATED}]
    assert len(anthropic) == 1 and anthropic[0]["also_reported_by"]


def test_stats_json_has_articles_passages_and_snapshot(sample_index, run_cli, live):
    done = run_cli(sample_index, "stats", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    view = live(sample_index)
    # One article a file of the sample corpus (counted here: the corpus grows).
    files = [p for p in sample_dir().iterdir() if p.suffix in {".md", ".html"}]
    assert data["articles"] == view.count("articles") == len(files)
    assert data["passages"] == view.count("passages")
    assert data["snapshot"] == view.name


def test_empty_question_on_the_cli_is_a_usage_error(sample_index, run_cli):
    done = run_cli(sample_index, "search", "--json", "   ")
    assert done.returncode == 2
    assert json.loads(done.stdout)["error"]


# --------------------------------------------------------------------------- further results

@session_loop
@pytest.mark.parametrize(("question", "parties"), [
    ("What is happening with Disney v. Midjourney?", ("Disney", "Midjourney")),
    ("where does getty's case against stability ai stand?", ("Getty", "Stability")),
    ("Thomson Reuters v. Ross: what did the court decide?", ("Thomson Reuters", "Ross")),
    ("what did the court rule in the Kadrey v. Meta case?", ("Kadrey", "Meta")),
])
async def test_further_results_and_more_pages_stay_on_the_question(index, texts, question, parties):
    """Results after the first, and More pages, are relevant by the abstention standard:
    no drift to stories about other parties to fill the page."""
    threshold = index.settings.search.min_relevance
    shown = [*(await index.search(question)).results, *(await index.search(question, offset=3)).results,
             *(await index.search(question, offset=6)).results]
    assert shown and any(p in shown[0].title for p in parties)
    for r in shown:
        assert r.relevance >= threshold - 0.15, (r.title, r.relevance)  # NAMED_SLACK at most
        assert any(p in texts[r.article_id] for p in parties), f"{r.title!r} names none of {parties}"


# --------------------------------------------------------------------------- the question's focus

def test_focus_question_drops_the_words_that_name_the_article():
    from index.snippets import focus_question
    title = "OpenAI strikes a two-year deal with the Associated Press"
    lead = "The Associated Press will license part of its archive to OpenAI."
    assert focus_question("how far back does the AP archive licensed to OpenAI go?", title,
                          lead) == "how far back does the ap to go"
    # Nothing names the article: the question is its own focus.
    assert focus_question("what did the judge say about fair use?", title, lead) is None
    # Only names (and question words) left: nothing to focus on.
    assert focus_question("what about OpenAI and the Associated Press?", title, lead) is None


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def unfocused(sample_index, encoder, settings_for):
    import dataclasses
    base = settings_for(sample_index)
    opened = await DocketIndex(base.replace(search=dataclasses.replace(base.search, focus_share=0.0)),
                               encoder).open()
    yield opened
    await opened.close()


@session_loop
async def test_quotes_chosen_by_the_focus_hold_the_answer_more_often(index, unfocused, texts):
    """On the tuning questions whose answer lies past the lead, the quote chosen by the
    question's focus holds the fact asked for more often than one chosen by the whole
    question, and every quote stays the article's own text."""
    qa = load_qa(Path(str(sample_dir())).parent / "qa_tune.jsonl")
    focused = await evaluate(index, qa)
    whole = await evaluate(unfocused, qa)
    assert focused["snippet_contains"] >= whole["snippet_contains"] + 0.03, (focused["snippet_contains"],
                                                                             whole["snippet_contains"])
    # The ranking is the same: only the quote changes.
    assert focused["hit@1"] == whole["hit@1"] and focused["hit@5"] == whole["hit@5"]
    response = await index.search("how far back does the AP archive licensed to OpenAI go?")
    assert_verbatim(response, texts)
