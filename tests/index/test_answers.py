"""What a user sees of the answer logic on the sample corpus: the kind of fact a question
asks for, honest answers when no report gives it, quotes that join two sentences, fusion
that keeps what dense search finds, and the optional cross-encoder stage."""

from __future__ import annotations

import dataclasses
import json
import logging
import subprocess
import sys

import pytest
import pytest_asyncio

from index.answertype import AnswerType, carries, question_type, ruler, rulings, speaker, statements
from index.evaluate import default_qa_path, load_qa
from index.service import DocketIndex
from index.settings import RerankSettings

session_loop = pytest.mark.asyncio(loop_scope="session")
JAPAN = "https://www.gamesradar.com/entertainment/anime-shows/japanese-government-officials"


@pytest.mark.parametrize(("question", "kind"), [
    ("how many songs did GEMA sue over", AnswerType.NUMBER),
    ("wait so how much did anthropic cough up lol", AnswerType.MONEY),
    ("How much VRAM do I need?", AnswerType.NUMBER),
    ("when was the suit filed", AnswerType.DATE),
    ("which judge is on the case", AnswerType.WHO),
    ("which court did reddit file in", AnswerType.PLACE),
    ("What did the Third Circuit rule?", AnswerType.RULING),
    ("did raw story win its appeal", AnswerType.RULING),
    ("why did the judge refuse the injunction", AnswerType.REASON),
    ("did the AP renew the deal when it ran out?", None),  # "when" joins, it does not ask
    ("how do i fine tune llama", None),  # "fine" is not a penalty here
    ("what is the fine per violation?", AnswerType.MONEY),
    ("tell me about the Getty case", None),
    ("what did the music publishers say after losing", AnswerType.SPEECH),
    ("what does reddit want from perplexity", AnswerType.SPEECH),
    ("how long does the licensing deal last", AnswerType.DURATION),
    ("how long ago was the suit filed", AnswerType.DATE),
    ("which claims survived in the copilot case", AnswerType.CLAIM),
    ("which supreme court case did the judge rely on", AnswerType.CASE),
    ("which court was the case filed in", AnswerType.PLACE),
])
def test_the_kind_of_fact_a_question_asks_for(question, kind):
    assert question_type(question) is kind


@pytest.mark.parametrize(("sentence", "kind", "held"), [
    ("Anthropic agreed to pay $1.5 billion.", AnswerType.MONEY, True),
    ("Ziff Davis wants hundreds of millions of dollars.", AnswerType.MONEY, True),
    ("Financial terms were not disclosed.", AnswerType.MONEY, True),
    ("The case was filed in 2023.", AnswerType.MONEY, False),
    ("Seventeen writers sued.", AnswerType.NUMBER, True),
    ("The suit was filed on Sept. 19, 2023.", AnswerType.NUMBER, False),  # a date is not a count
    ("The suit was filed on Sept. 19.", AnswerType.DATE, True),
    ("The judge dismissed the claim.", AnswerType.RULING, True),
    ("The appeal is pending.", AnswerType.RULING, False),
    ("The agreement runs for two years.", AnswerType.DURATION, True),
    ("The agreement was signed in 2023.", AnswerType.DURATION, False),
    ("The judge let the unfair competition claim go ahead.", AnswerType.CLAIM, True),
    ("The judge let the case go ahead.", AnswerType.CLAIM, False),
    ("She relied on TransUnion v. Ramirez.", AnswerType.CASE, True),
    ("She relied on a 2021 ruling.", AnswerType.CASE, False),
])
def test_whether_a_sentence_holds_that_kind_of_fact(sentence, kind, held):
    assert carries(sentence, kind) is held


def test_which_judge_needs_a_sentence_that_names_a_judge():
    words = frozenset({"which", "judge", "handles", "it"})
    assert carries("U.S. District Judge William Alsup set a hearing.", AnswerType.WHO, words)
    assert not carries("Reddit's lawyer Ben Lee said the company would fight.", AnswerType.WHO, words)
    # A judge beside a place names the place, not the judge.
    assert not carries("A federal judge in San Francisco ruled for Anthropic.", AnswerType.WHO, words)
    assert carries("The ruling came from Alsup, the judge overseeing the case.", AnswerType.WHO, words)


@session_loop
async def test_which_judge_is_answered_with_the_judges_name(index):
    response = await index.search("Which judge is handling the Bartz v. Anthropic case?")
    assert not response.abstained and response.results
    assert "William Alsup" in response.results[0].snippet


def test_a_statement_is_the_speakers_own():
    who = speaker("what did the music publishers say after losing the injunction bid")
    assert who == frozenset({"music", "publish"})
    assert speaker("what did chegg's ceo say about google") >= {"chief", "execut"}
    article = [
        "An Anthropic spokesperson said the company was pleased, calling the publishers' bid "
        "\"disruptive.\"",  # the publishers are spoken of, not speaking
        "The publishers responded that they remain very confident in their case.",
        "Johnson, whose books include \"The Feather Thief,\" said he would attend.",
        "He described the settlement as the opening round of a wider fight.",
        "The publishers sued in October 2023.",  # no statement
    ]
    assert statements(article, who) == [False, True, False, False, False]
    assert statements(article, frozenset({"johnson"})) == [False, False, True, True, False]


def test_a_ruling_is_the_asked_courts_own():
    assert ruler("What did the Third Circuit decide on the appeal?") == frozenset({"third", "circuit"})
    assert ruler("what did the court rule") == frozenset()  # any court's ruling answers
    trial = ["Judge Stephanos Bibas postponed the trial.",
             "He sent two questions to the appeals court.",
             "Bibas ruled that the headnotes were protected.",
             "The Third Circuit agreed in April to hear the appeal."]
    # The trial judge's ruling is not the Third Circuit's, nor is agreeing to hear a case.
    assert rulings(trial, ruler("what did the third circuit rule")) == [False] * 4
    hamburg = ["The Hamburg Regional Court has thrown out a lawsuit against LAION.",
               "The photographer had sued in 2023.",
               "The court found that the research exception applied."]
    # An article opening with the court: its "the court found" is that court's.
    assert rulings(hamburg, ruler("what did the hamburg court decide")) == [True, False, True]


@session_loop
async def test_what_someone_said_is_quoted_from_their_statement(index):
    response = await index.search("What did Kirk Wallace Johnson say about the Anthropic settlement?")
    assert not response.abstained and response.results
    snippet = response.results[0].snippet
    assert "Johnson" in snippet and "opening round of a wider fight" in snippet


@session_loop
async def test_a_fact_no_report_gives_is_said_so_with_the_closest_coverage(index):
    response = await index.search("how much did minimax agree to pay disney to settle the hailuo case")
    assert response.abstained
    assert response.notice == "No report in the index gives the amount; the closest coverage:"
    assert response.results and "MiniMax" in response.results[0].title
    assert not response.results[0].carries_fact


@session_loop
async def test_a_fact_the_report_gives_is_quoted(index):
    response = await index.search("How much is Disney investing in OpenAI?")
    assert not response.abstained and response.notice is None
    assert "$1 billion" in response.results[0].snippet


@session_loop
async def test_an_undisclosed_amount_is_an_answer(index):
    response = await index.search("how much did openai pay ap for the archive")
    assert not response.abstained
    assert "not disclosed" in response.results[0].snippet


@session_loop
async def test_the_japanese_government_question_quotes_the_governments_request(index):
    response = await index.search("What did the Japanese government ask OpenAI to do about Sora 2?")
    top = response.results[0]
    assert top.url.startswith(JAPAN)  # the government's request, above the trade group's letter
    assert "formal request with OpenAI" in top.snippet


@session_loop
async def test_a_quote_may_join_two_sentences_from_different_parts(index):
    joined = []
    for item in load_qa(default_qa_path()):
        for r in (await index.search(item["question"])).results:
            if len(r.parts) == 2 and r.parts[1][0] - r.parts[0][1] > 2:
                joined.append(r)
    assert joined
    for r in joined:
        first, second = r.parts
        assert r.snippet.count(" … ") >= 1
        assert len(r.snippet) <= 450 + 3
        assert r.snippet_start == first[0] and first[1] < second[0]


@session_loop
async def test_fusion_keeps_the_three_best_dense_stories_in_the_first_five(index, sample_index,
                                                                           encoder, settings_for):
    base = settings_for(sample_index)
    dense_only = base.replace(search=dataclasses.replace(
        base.search, lexical_bonus=0.0, sentence_weight=0.0, coverage_bonus=0.0, dense_keep=0,
        min_relevance=-1.0))
    fused_all = base.replace(search=dataclasses.replace(base.search, min_relevance=-1.0))
    dense_index = await DocketIndex(dense_only, encoder).open()
    fused_index = await DocketIndex(fused_all, encoder).open()
    try:
        for item in load_qa(default_qa_path())[:60]:
            dense = await dense_index.search(item["question"], k=3)
            fused = await fused_index.search(item["question"], k=5)
            if dense.date_filter or dense.latest:
                continue  # dates filter and order by recency on purpose
            # A story by any of its copies: syndicated copies are one result.
            top5 = {u for r in fused.results for u in (r.url, *r.also_reported_by)}
            assert {r.url for r in dense.results} <= top5, item["question"]
    finally:
        await dense_index.close()
        await fused_index.close()


def test_search_json_marks_a_missing_fact_as_abstained_with_results(sample_index, tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "index", "--data-dir", str(sample_index), "search", "--json",
         "how much did minimax agree to pay disney to settle the hailuo case"],
        capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["abstained"] is True
    assert answer["results"] and answer["notice"].startswith("No report in the index gives")
    assert all(len(r["parts"]) in (1, 2) for r in answer["results"])


# --------------------------------------------------------------------------- optional reranking

@pytest_asyncio.fixture(loop_scope="session")
async def reranked(sample_index, encoder, settings_for, cross_encoder_dir):
    base = settings_for(sample_index)
    settings = base.replace(rerank=RerankSettings(model=str(cross_encoder_dir)))
    opened = await DocketIndex(settings, encoder).open()
    yield opened
    await opened.close()


@session_loop
async def test_a_configured_cross_encoder_reorders_and_is_timed(reranked, index):
    assert reranked.reranker is not None
    question = "How many pirated books did Anthropic download from shadow libraries?"
    with_model = await reranked.search(question, k=5)
    without = await index.search(question, k=5)
    assert with_model.timings_ms["rerank"] > 0
    stages = sum(v for key, v in with_model.timings_ms.items() if key != "total")
    assert abs(stages - with_model.timings_ms["total"]) < 0.01
    assert "rerank" not in without.timings_ms
    # The model re-orders the leading candidates; it brings in no story from elsewhere.
    candidates = await index.search(question, k=10, min_relevance=-1.0)
    assert {r.url for r in with_model.results} <= {r.url for r in candidates.results}
    for r in with_model.results:
        assert r.snippet and r.parts


@session_loop
async def test_an_unloadable_cross_encoder_warns_once_and_answers_normally(
        sample_index, encoder, settings_for, tmp_path, caplog, index):
    base = settings_for(sample_index)
    settings = base.replace(rerank=RerankSettings(model=str(tmp_path / "no-such-model")))
    caplog.set_level(logging.WARNING)
    opened = await DocketIndex(settings, encoder).open()
    try:
        await opened.reload_if_changed(force=True)
        await opened.open()
        question = "What did Judge Alsup decide about fair use in Bartz v. Anthropic?"
        got = await opened.search(question)
        want = await index.search(question)
    finally:
        await opened.close()
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING and "rerank" in r.getMessage()]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert opened.reranker is None
    assert [r.url for r in got.results] == [r.url for r in want.results]
    assert [r.snippet for r in got.results] == [r.snippet for r in want.results]
