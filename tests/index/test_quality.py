"""Answer quality on the six question sets of the sample corpus, one test per target.

dev_qa.jsonl and qa_tune.jsonl are the sets the ranking was tuned on; qa_holdout.jsonl was
written at the same time, before any ranking change, and qa_holdout2.jsonl,
qa_holdout3.jsonl and qa_holdout4.jsonl later, from the articles alone; none is ever
tuned on. A set without a kind of question (qa_holdout4 has no "latest" ones) has no
floor for it. Each floor
is the measured figure less a small margin (the int8 model's scores vary a little from
one CPU to another), so a change that loses ground fails here. Targets not yet reached
on a set are strict xfails: they fail the day the target is met, so that the floor is
raised with it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import pytest_asyncio

from index.evaluate import QA_SETS, evaluate, load_qa
from index.service import DocketIndex
from index.sources import sample_dir

SAMPLE = Path(str(sample_dir())).parent
MARGIN = 0.03

# (measure, target) from the specification; higher is better for each.
TARGETS = {"hit@5": 0.97, "paraphrase_hit@5": 0.90, "hit@1": 0.85, "answered_rate": 0.97,
           "abstain_accuracy": 0.90, "snippet_contains": 0.55, "latest_hit@1": 0.85}

# What each set measured when these floors were set (see README, Quality).
MEASURED = {
    "dev_qa.jsonl": {"hit@5": 0.99, "paraphrase_hit@5": 1.00, "hit@1": 0.93, "answered_rate": 0.99,
                     "abstain_accuracy": 0.93, "snippet_contains": 0.60, "latest_hit@1": 0.86},
    "qa_tune.jsonl": {"hit@5": 0.94, "paraphrase_hit@5": 0.71, "hit@1": 0.81, "answered_rate": 0.97,
                      "abstain_accuracy": 0.87, "snippet_contains": 0.65, "latest_hit@1": 0.86},
    "qa_holdout.jsonl": {"hit@5": 0.94, "paraphrase_hit@5": 0.64, "hit@1": 0.88,
                         "answered_rate": 0.95, "abstain_accuracy": 0.59, "snippet_contains": 0.68,
                         "latest_hit@1": 0.33},
    "qa_holdout2.jsonl": {"hit@5": 0.95, "paraphrase_hit@5": 0.76, "hit@1": 0.81,
                          "answered_rate": 0.90, "abstain_accuracy": 0.60, "snippet_contains": 0.56,
                          "latest_hit@1": 0.80},
    "qa_holdout3.jsonl": {"hit@5": 0.98, "paraphrase_hit@5": 0.96, "hit@1": 0.80,
                          "answered_rate": 0.94, "abstain_accuracy": 0.32, "snippet_contains": 0.67,
                          "latest_hit@1": 0.50},
    "qa_holdout4.jsonl": {"hit@5": 0.98, "paraphrase_hit@5": 0.92, "hit@1": 0.94,
                          "answered_rate": 0.98, "abstain_accuracy": 0.30, "snippet_contains": 0.79},
}


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def reports(sample_index, encoder, settings_for):
    index = await DocketIndex(settings_for(sample_index), encoder).open()
    try:
        return {name: await evaluate(index, load_qa(SAMPLE / name)) for name in QA_SETS}
    finally:
        await index.close()


CASES = [(name, measure) for name in MEASURED for measure in TARGETS if measure in MEASURED[name]]


@pytest.mark.parametrize(("qa_set", "measure"), CASES)
def test_quality_holds_its_ground(reports, qa_set, measure):
    floor = MEASURED[qa_set][measure] - MARGIN
    got = reports[qa_set][measure]
    assert got is not None and got >= floor, f"{qa_set} {measure}: {got:.3f} < floor {floor:.2f}"


@pytest.mark.parametrize(("qa_set", "measure"), [
    pytest.param(name, measure, marks=pytest.mark.xfail(
        strict=True, reason=f"target {TARGETS[measure]} not yet met on {name}"))
    if MEASURED[name][measure] < TARGETS[measure] else (name, measure)
    for name, measure in CASES])
def test_quality_meets_the_target(reports, qa_set, measure):
    assert reports[qa_set][measure] >= TARGETS[measure]


def test_the_sets_are_what_the_readme_says(reports):
    """The held-out set is a real test: its articles and questions are not the tuning sets'."""
    tuned = {q["question"] for name in ("dev_qa.jsonl", "qa_tune.jsonl")
             for q in load_qa(SAMPLE / name)}
    held = load_qa(SAMPLE / "qa_holdout.jsonl")
    assert len(held) >= 100 and not tuned & {q["question"] for q in held}
    second = load_qa(SAMPLE / "qa_holdout2.jsonl")
    # Written apart from the others: a few obvious questions coincide, no more.
    overlap = (tuned | {q["question"] for q in held}) & {q["question"] for q in second}
    assert len(second) >= 100 and len(overlap) <= len(second) // 20
    assert sum(not q["_urls"] for q in second) >= 12
    tuned_urls = {u for name in ("dev_qa.jsonl", "qa_tune.jsonl") for q in load_qa(SAMPLE / name)
                  for u in q["_urls"] if q["kind"] not in ("latest", "date")}
    own = {u for q in held for u in q["_urls"] if q["kind"] not in ("latest", "date")}
    assert len(own - tuned_urls) >= 12  # its own articles, asked about only there
    assert sum(not q["_urls"] for q in held) >= 12  # unanswerable questions
    assert {q["kind"] for q in held} >= {"paraphrase", "detail", "latest", "date", "unanswerable"}
    third = load_qa(SAMPLE / "qa_holdout3.jsonl")
    earlier = tuned | {q["question"] for q in held} | {q["question"] for q in second}
    assert len(third) >= 100 and not earlier & {q["question"] for q in third}
    assert sum(not q["_urls"] for q in third) >= 20
    assert len({u for q in third for u in q["_urls"]}) >= 50  # spread over the corpus
    fourth = load_qa(SAMPLE / "qa_holdout4.jsonl")
    earlier |= {q["question"] for q in third}
    assert len(fourth) >= 100 and len(earlier & {q["question"] for q in fourth}) <= 2
    assert sum(not q["_urls"] for q in fourth) >= 20
    assert len({u for q in fourth for u in q["_urls"]}) >= 50
