"""/trends end to end: the chart arrives as a PNG attachment inside an embed, its numbers
(alt text and summary) are the index's own counts, and bad input gets one sentence."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import re
import sqlite3
import struct
from collections import Counter
from pathlib import Path

import aiohttp
import pytest
from docket_harness import EPHEMERAL, running_docket

from index.embed import Encoder
from index.snapshot import DB_FILE, current_name, snapshots_dir

pytestmark = pytest.mark.asyncio(loop_scope="function")

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def stories_per_month(data_dir: Path, since: str) -> Counter[str]:
    """Stories (syndicated copies once) per "Mon YYYY", read from the snapshot directly."""
    name = current_name(data_dir)
    assert name is not None
    db = snapshots_dir(data_dir) / name / DB_FILE
    with contextlib.closing(sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True)) as conn:
        rows = conn.execute("SELECT COALESCE(story_id, id), MIN(published) FROM articles "
                            "WHERE published IS NOT NULL GROUP BY COALESCE(story_id, id)").fetchall()
    months = Counter(dt.date.fromisoformat(p[:10]).strftime("%b %Y") for _, p in rows if p >= since)
    return months


async def test_trends_attaches_a_chart_of_the_index_counts(encoder: Encoder, sample_index: Path,
                                                           tmp_path: Path) -> None:
    async with running_docket(encoder, sample_index, tmp_path) as d:
        rec = await d.fake.dispatch_slash("trends", {"weeks": 130})
        reply = await rec.wait_for_reply(timeout=30)
        assert rec.callback_type == 5  # deferred: the chart is drawn off the event loop
        [embed] = reply["embeds"]
        assert embed["title"] == "Stories per month"
        assert embed["image"]["url"] == "attachment://trends.png"
        [attachment] = reply["attachments"]
        assert attachment["filename"] == "trends.png"
        async with aiohttp.ClientSession() as http, http.get(attachment["url"]) as resp:
            png = await resp.read()  # served by the fake on 127.0.0.1
        assert png.startswith(PNG_SIGNATURE)
        width, height = struct.unpack(">II", png[16:24])  # the IHDR chunk
        assert (width, height) == (1000, 500)
        from matplotlib import image
        assert image.imread(io.BytesIO(png)).shape[:2] == (500, 1000)

        # The plotted numbers, as the alt text gives them, are the index's own counts.
        alt = attachment["description"]
        shown = dict(re.findall(r"([A-Z][a-z]{2} \d{4}): (\d+)", alt.split("Months: ", 1)[1]))
        first = min(shown, key=lambda m: dt.datetime.strptime(m, "%b %Y"))
        since = dt.datetime.strptime(first, "%b %Y").date().isoformat()
        expected = stories_per_month(sample_index, since)
        assert {m: int(n) for m, n in shown.items() if int(n)} == dict(expected)
        total = sum(expected.values())
        assert re.match(rf"{total} stories in the {len(shown)} months to ", embed["description"])
        d.fake.assert_clean()


@pytest.mark.parametrize(("options", "sentence"), [
    ({"weeks": 0}, "weeks must be between 1 and 520; got 0."),
    ({"weeks": -3}, "weeks must be between 1 and 520; got -3."),
    ({"weeks": 10**6}, "weeks must be between 1 and 520; got 1000000."),
    ({"topic": "ukulele repair", "weeks": 130}, "No stories on “ukulele repair” in the index: "
                                                "nothing to chart."),
])
async def test_bad_spans_and_empty_topics_get_one_sentence(encoder: Encoder, sample_index: Path,
                                                           tmp_path: Path, options, sentence) -> None:
    async with running_docket(encoder, sample_index, tmp_path) as d:
        reply = await (await d.fake.dispatch_slash("trends", options)).wait_for_reply(timeout=30)
        assert reply["content"] == sentence and not reply.get("embeds") and not reply.get("attachments")
        if "weeks must" in sentence:
            assert reply["flags"] & EPHEMERAL
        d.fake.assert_clean()


async def test_a_quiet_span_names_the_newest_story(encoder: Encoder, sample_index: Path,
                                                   tmp_path: Path) -> None:
    async with running_docket(encoder, sample_index, tmp_path) as d:
        reply = await (await d.fake.dispatch_slash("trends", {"weeks": 1})).wait_for_reply(timeout=30)
        newest = max(stories_per_month(sample_index, "1900-01-01"),
                     key=lambda m: dt.datetime.strptime(m, "%b %Y"))
        assert reply["content"].startswith("No stories in the last 1 week; the newest is from ")
        assert newest.split()[0] in reply["content"] and "(try " in reply["content"]
        d.fake.assert_clean()
