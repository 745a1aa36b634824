"""A bot whose index holds no story yet (an ingest that found nothing): /trends, /case
and autocomplete each answer in one sentence, never with an empty chart or an exception."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from docket_harness import index_settings, running_docket

from index.embed import Encoder
from index.ingest import ingest

pytestmark = pytest.mark.asyncio(loop_scope="function")


@pytest.fixture
def empty_index(tmp_path: Path, encoder: Encoder) -> Path:
    """A data directory with a published snapshot of nothing: an ingest of an empty folder."""
    source = tmp_path / "nothing-yet"
    source.mkdir()
    data_dir = tmp_path / "data"
    summary = asyncio.run(ingest([str(source)], index_settings(data_dir), encoder))
    assert summary.new == 0 and summary.failed == 0
    return data_dir


async def test_an_empty_index_gets_one_sentence_per_command(encoder: Encoder, empty_index: Path,
                                                            tmp_path: Path) -> None:
    async with running_docket(encoder, empty_index, tmp_path / "state") as d:
        fake = d.fake
        replies = {}
        for name, options in (("trends", {}), ("trends", {"topic": "sora", "weeks": 12}),
                              ("case", {"name": "Bartz v. Anthropic"})):
            rec = await fake.dispatch_slash(name, options)
            reply = await rec.wait_for_reply(timeout=30)
            assert not reply.get("embeds") and not reply.get("attachments"), reply
            replies[(name, options.get("topic"))] = reply["content"]
        assert replies[("trends", None)] == "No stories in the index: nothing to chart."
        assert replies[("trends", "sora")] == "No stories on “sora” in the index: nothing to chart."
        assert replies[("case", None)].startswith("No cases found in the index yet")
        offered = await (await fake.dispatch_autocomplete(
            "case", {"name": "bartz"}, focused="name")).wait_for_choices()
        assert offered == []
        fake.assert_clean()
