"""Load (issue 7, and the responsiveness target of issue 6): many concurrent /ask through the
fake Discord API, with and without a full /reindex running, each acknowledged within
Discord's 3-second window and answered; p50/p95 printed (`-s`) and recorded as properties."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import shutil
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from docket_harness import (
    EPHEMERAL,
    JAPAN,
    Docket,
    running_docket,
    synthetic_corpus,
    write_article,
)
from fakediscord import FakeUser, InteractionRecord

from bot.render import NOTHING_FOUND
from index.embed import Encoder
from index.sources import sample_dir

pytestmark = [pytest.mark.asyncio(loop_scope="function"), pytest.mark.slow]

ACK_WINDOW_S = 3.0
MARKER_QUESTION = "Who must license the Quillfeather archive?"
MARKER_URL = "https://news.example/zorblatt-quillfeather"
MARKER = dict(
    title="Fictional court orders Zorblatt Labs to license the Quillfeather archive",
    url=MARKER_URL, published="2026-11-20", outlet="Example Wire",
    body=("A federal judge ordered Zorblatt Labs to pay licensing fees to the Quillfeather "
          "archive after finding that the company trained its model on the archive's novels "
          "without permission. The order covers every book in the archive. Zorblatt Labs said "
          "it would appeal the licensing order."))
# Answered from the sample and from the synthetic corpus alike (the marker only by the latter).
QUESTIONS = [JAPAN, MARKER_QUESTION, "Which authors sued Anthropic?"]
# The sample articles that answer JAPAN and the Anthropic question.
ANSWERING_ARTICLES = ("japan-asks-openai-sora2.html", "bartz-anthropic-fair-use-ruling.md",
                      "anthropic-settlement-ap.html")
# Only the sample has the Disney story; used where no reindex runs.
QUESTIONS_50 = [*QUESTIONS, "What did Disney agree with OpenAI?"]
# Searches at once: two cores, and the query embedding and FAISS run in worker threads.
LOAD_CONFIG: dict[str, Any] = {"max_concurrent_searches": 2, "max_waiting_searches": 400}
_SEARCHED = re.compile(r"Searched ([\d,]+) passages")


def pct(values: list[float], q: int) -> float:
    """The q-th percentile (1..99) by linear interpolation."""
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


@dataclass
class Asked:
    rec: InteractionRecord
    question: str
    reply: dict[str, Any] | None = None
    replied_at: float | None = None  # loop time the visible reply was recorded by the fake

    @property
    def reply_latency(self) -> float:
        assert self.replied_at is not None
        return self.replied_at - self.rec.dispatched_at


@dataclass
class Figures:
    asked: list[Asked]
    wall_s: float
    ack: list[float] = field(default_factory=list)
    reply: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.ack = [a.rec.ack_latency for a in self.asked if a.rec.ack_latency is not None]
        self.reply = [a.reply_latency for a in self.asked]

    def line(self, label: str) -> str:
        return (f"\n[load] {label}: {len(self.asked)} /ask in {self.wall_s:.1f}s; "
                f"ack p50 {pct(self.ack, 50) * 1000:.0f} ms, p95 {pct(self.ack, 95) * 1000:.0f} ms, "
                f"max {max(self.ack) * 1000:.0f} ms; dispatch-to-reply p50 "
                f"{pct(self.reply, 50):.2f} s, p95 {pct(self.reply, 95):.2f} s, "
                f"max {max(self.reply):.2f} s")

    def record(self, record_property: Callable[[str, object], None], prefix: str) -> None:
        for name, values in (("ack", self.ack), ("reply", self.reply)):
            for q in (50, 95):
                record_property(f"{prefix}_{name}_p{q}_ms", round(pct(values, q) * 1000, 1))
            record_property(f"{prefix}_{name}_max_ms", round(max(values) * 1000, 1))
        record_property(f"{prefix}_count", len(self.asked))
        record_property(f"{prefix}_wall_s", round(self.wall_s, 2))


def askers(d: Docket, count: int) -> list[FakeUser]:
    """Distinct members, so per-user cooldowns never come into it."""
    return [d.fake.world.add_member(f"asker{i}") for i in range(count)]


async def ask_concurrently(d: Docket, users: list[FakeUser], count: int, *,
                           questions: list[str] = QUESTIONS,
                           on_reply: Callable[[int], None] | None = None,
                           timeout: float = 90.0) -> Figures:  # noqa: ASYNC109
    """Dispatch `count` /ask at once (round-robin over users and QUESTIONS) and wait for
    every visible reply, noting when each arrived. One waiter scans all the records on
    each change, so the test adds no per-question polling load to the bot's loop."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    asking = [questions[i % len(questions)] for i in range(count)]
    recs = await asyncio.gather(*(
        d.fake.dispatch_slash("ask", {"question": q}, user=users[i % len(users)])
        for i, q in enumerate(asking)))
    asked = [Asked(rec, q) for rec, q in zip(recs, asking, strict=True)]

    def all_replied() -> bool:
        now = loop.time()
        for a in asked:
            if a.reply is None and a.rec.replies:
                a.reply, a.replied_at = a.rec.replies[0], now
        if on_reply is not None:
            on_reply(sum(a.reply is not None for a in asked))
        return all(a.reply is not None for a in asked)

    def describe() -> str:
        missing = [a.rec.describe() for a in asked if a.reply is None]
        return f"{len(missing)} unanswered, e.g. {missing[:3]}"

    await d.fake.notifier.wait_until(all_replied, timeout, describe)
    return Figures(asked, loop.time() - started)


def passages_searched(reply: dict[str, Any]) -> int:
    assert reply["embeds"], f"not an answer: {reply.get('content')!r}"
    match = _SEARCHED.search(reply["embeds"][0]["footer"]["text"])
    assert match, reply["embeds"][0]["footer"]
    return int(match.group(1).replace(",", ""))


def assert_responsive(d: Docket, figures: Figures) -> None:
    for a in figures.asked:
        rec = a.rec
        assert rec.callback_type == 5, rec.describe()  # deferred, never refused as busy
        assert rec.ack_latency is not None and rec.ack_latency < ACK_WINDOW_S, rec.describe()
        assert not rec.errors, rec.describe()
        assert a.reply is not None and not a.reply["flags"] & EPHEMERAL, rec.describe()
        # An answer, or (the marker question, where the index lacks the marker) "nothing found".
        assert a.reply["embeds"] or (a.question == MARKER_QUESTION and a.reply["content"]
                                     .startswith(NOTHING_FOUND)), (a.question, a.reply)
    assert len(figures.ack) == len(figures.asked)
    d.fake.assert_clean()  # no violation: no missed acknowledgement, no invalid message


async def test_200_questions_during_a_full_reindex_are_acknowledged_answered_and_consistent(
        encoder: Encoder, sample_copy: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture,
        record_property: Callable[[str, object], None], monkeypatch: pytest.MonkeyPatch) -> None:
    caplog.set_level(logging.INFO)
    # The reindex reads a larger corpus (the sample's sentences, recombined), the sample
    # articles that answer QUESTIONS (recombined sentences may miss them as the sample grows)
    # and one marker article that the live (sample) snapshot does not have.
    corpus = synthetic_corpus(tmp_path / "corpus", 10)
    for name in ANSWERING_ARTICLES:
        shutil.copy(sample_dir() / name, corpus / name)
    write_article(corpus, "zorblatt", **MARKER)
    # Only the reindex itself swaps snapshots here (no periodic reload or feed tick between).
    async with running_docket(encoder, sample_copy, tmp_path / "state",
                              settings_changes={"sources": (str(corpus),)},
                              reload_interval_s=3600, feed_interval_s=3600, **LOAD_CONFIG) as d:
        fake, index = d.fake, d.service.index
        loop = asyncio.get_running_loop()
        # The real ingest runs and publishes, in an order that no machine's speed can change:
        # it starts embedding only once the questions are sent (so they meet two busy cores);
        # the reindexer's swap to the new snapshot waits until half of them are answered; and
        # the questions after the first three quarters wait for the swap. So the swap falls
        # inside the load, with searches still running around it.
        embedding, load_sent, halfway = threading.Event(), threading.Event(), threading.Event()
        real_ingest = d.service.reindexer.ingest_fn
        ingested: dict[str, float] = {}

        async def ingest_in_step_with_the_load(*args: Any, progress: Any, **kwargs: Any) -> Any:
            def held_progress(stage: str, done: int, total: int) -> None:
                progress(stage, done, total)
                if stage == "embedding" and not embedding.is_set():
                    embedding.set()
                    load_sent.wait(60)

            summary = await real_ingest(*args, progress=held_progress, **kwargs)
            ingested["at"] = time.monotonic()  # the loop's clock, from the ingest's thread
            await asyncio.to_thread(halfway.wait, 60)
            return summary

        d.service.reindexer.ingest_fn = ingest_in_step_with_the_load
        old_name, old_passages = index.snapshot.name, index.snapshot.passages
        users = askers(d, 50)

        # When the live snapshot changed (the reindexer's reload returned True).
        swap: dict[str, float] = {}
        swapped = asyncio.Event()
        real_reload = index.reload_if_changed

        async def noting_the_swap(*, force: bool = False) -> bool:
            changed = await real_reload(force=force)
            if changed:
                swap.setdefault("at", loop.time())
                swapped.set()
            return changed

        monkeypatch.setattr(index, "reload_if_changed", noting_the_swap)
        real_ask = d.service.ask
        searches = [0]

        async def late_searches_wait_for_the_swap(*args: Any, **kwargs: Any) -> Any:
            searches[0] += 1
            if searches[0] > 150:
                with contextlib.suppress(TimeoutError):  # no swap: the test fails below
                    await asyncio.wait_for(swapped.wait(), 60)
            return await real_ask(*args, **kwargs)

        monkeypatch.setattr(d.service, "ask", late_searches_wait_for_the_swap)
        rec = await fake.dispatch_slash("reindex", {"full": True}, user=fake.owner,
                                        bypass_permission_gate=True)
        started = await rec.wait_for_reply(timeout=10)
        assert started["content"].startswith("⏳ full reindex started by")
        run = d.service.reindexer.current
        assert run is not None
        assert await asyncio.to_thread(embedding.wait, 60), "the reindex never started embedding"
        assert run.running and run.stage == "embedding"

        def release_at_halfway(answered: int) -> None:
            if answered >= 100:
                halfway.set()

        load_started = time.monotonic()
        load_sent.set()  # the 200 are dispatched at once, just below
        figures = await ask_concurrently(d, users, 200, on_reply=release_at_halfway)
        load_ended = time.monotonic()
        print(f"\n[load] the ingest ran for {ingested.get('at', load_ended) - load_started:.1f}s "
              f"of the {load_ended - load_started:.1f}s load")
        await asyncio.wait_for(d.service.reindexer.wait(), 60)
        assert "at" in ingested and "at" in swap and ingested["at"] < swap["at"]
        final = await rec.wait_for(lambda m: m["content"].startswith("✅"), timeout=15)
        new_name, new_passages = index.snapshot.name, index.snapshot.passages
        assert new_name != old_name and new_passages != old_passages
        assert f"Now answering from snapshot `{new_name}`" in final["content"]

        print(figures.line("200 during a full reindex"))
        figures.record(record_property, "load_reindex")
        print(f"[load] reindex: {run.line()}; swap {swap['at'] - figures.asked[0].rec.dispatched_at:.1f}s "
              "after the first question")
        assert_responsive(d, figures)

        # Each answer names the snapshot it came from (its passage count); the marker
        # question is answered by the marker article exactly when the new snapshot answered.
        by_time = sorted(figures.asked, key=lambda a: a.replied_at or 0.0)
        kinds = []
        for a in by_time:
            assert a.reply is not None and a.replied_at is not None
            if a.reply["embeds"]:
                searched = passages_searched(a.reply)
                assert searched in (old_passages, new_passages), searched
                new = searched == new_passages
            else:  # the marker question, with no marker article in the index: the old one
                new = False
            kinds.append(new)
            if new:
                assert a.replied_at >= swap["at"], "a new-snapshot answer before the swap"
            if a.question == MARKER_QUESTION:
                found = bool(a.reply["embeds"]) and MARKER_URL in a.reply["embeds"][0]["description"]
                assert found == new, a.reply
        old_count, new_count = kinds.count(False), kinds.count(True)
        print(f"[load] answers from the old snapshot: {old_count}, from the new one: {new_count}")
        record_property("load_reindex_old_answers", old_count)
        record_property("load_reindex_new_answers", new_count)
        assert old_count and new_count, "the swap did not happen during the load"
        # Old, then new: only searches already running at the swap (at most the global
        # limit) may finish on the old snapshot after the first new answer.
        first_new = kinds.index(True)
        assert kinds[first_new:].count(False) <= LOAD_CONFIG["max_concurrent_searches"], kinds
        # And a question dispatched after the swap is answered from the new snapshot.
        after = await fake.dispatch_slash("ask", {"question": MARKER_QUESTION}, user=users[0])
        assert MARKER_URL in (await after.wait_for_reply(timeout=15))["embeds"][0]["description"]

    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]


async def test_50_concurrent_questions_are_acknowledged_in_time(
        encoder: Encoder, sample_index: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture,
        record_property: Callable[[str, object], None]) -> None:
    """Issue 6's target: 50 concurrent /ask, no missed 3-second acknowledgement."""
    caplog.set_level(logging.INFO)
    async with running_docket(encoder, sample_index, tmp_path, **LOAD_CONFIG) as d:
        figures = await ask_concurrently(d, askers(d, 50), 50, questions=QUESTIONS_50)
        print(figures.line("50 concurrent"))
        figures.record(record_property, "load_50")
        assert_responsive(d, figures)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]
