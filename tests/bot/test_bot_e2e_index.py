"""The bot and the index on disk: hot reload from another process, a refused broken snapshot,
and hostile, very long article text that must still fit Discord's limits."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import time
from pathlib import Path

import discord
import pytest
from docket_harness import (
    CONFIG,
    JAPAN,
    REPO,
    ZWSP,
    assert_inert,
    index_settings,
    running_docket,
    write_article,
    write_html_article,
)

from bot import render
from index.embed import Encoder
from index.ingest import ingest
from index.snapshot import current_name

pytestmark = pytest.mark.asyncio(loop_scope="function")

NEW_ARTICLE = dict(
    title="Fictional court orders Zorblatt Labs to license the Quillfeather archive",
    url="https://news.example/zorblatt-quillfeather", published="2026-11-20",
    outlet="Example Wire",
    body=("A federal judge ordered Zorblatt Labs to pay licensing fees to the Quillfeather "
          "archive after finding that the company trained its model on the archive's novels "
          "without permission. The order covers every book in the archive. Zorblatt Labs said "
          "it would appeal the licensing order."))


async def test_a_snapshot_published_by_another_process_is_picked_up_and_a_broken_one_refused(
        encoder: Encoder, sample_copy: Path, tmp_path: Path) -> None:
    new_dir = tmp_path / "new"
    write_article(new_dir, "zorblatt", **NEW_ARTICLE)
    async with running_docket(encoder, sample_copy, tmp_path / "state",
                              reload_interval_s=1.0) as d:
        old = d.service.index.snapshot.name
        env = {**os.environ, "PYTHONPATH": str(REPO), "DOCKET_CONFIG": str(CONFIG)}
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "index", "--data-dir", str(sample_copy), "ingest", str(new_dir),
            cwd=tmp_path, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        _, err = await asyncio.wait_for(proc.communicate(), 120)
        assert proc.returncode == 0, err.decode()
        published = time.monotonic()
        new = current_name(sample_copy)
        assert new is not None and new != old
        await d.fake.wait_until(lambda: d.service.index.snapshot.name == new, timeout=10)
        assert time.monotonic() - published < 10

        rec = await d.fake.dispatch_slash("ask", {"question": "Who must license the Quillfeather archive?"})
        embed = (await rec.wait_for_reply(timeout=15))["embeds"][0]
        assert "news.example/zorblatt-quillfeather" in embed["description"]

        # A "published" snapshot whose FAISS file is damaged: refused, the current one serves on.
        snapshots = sample_copy / "snapshots"
        broken = snapshots / "29991231T000000-broken"
        shutil.copytree(snapshots / new, broken)
        faiss_file = next(p for p in broken.iterdir() if p.suffix == ".faiss")
        faiss_file.write_bytes(faiss_file.read_bytes()[:100])
        (sample_copy / "CURRENT").write_text(broken.name + "\n", encoding="utf-8")
        await d.fake.wait_until(lambda: d.service.index.last_reload_error, timeout=10)
        assert faiss_file.name in (d.service.index.last_reload_error or "")
        assert d.service.index.snapshot.name == new
        rec = await d.fake.dispatch_slash("ask", {"question": JAPAN})
        assert (await rec.wait_for_reply(timeout=15))["embeds"]
        status = await (await d.fake.dispatch_slash("status")).wait_for_reply(timeout=15)
        fields = {f["name"]: f["value"] for f in status["embeds"][0]["fields"]}
        assert faiss_file.name in fields["Refused snapshot"]
        d.fake.assert_clean()


HOSTILE_PARAGRAPHS = [
    "@everyone the Vexhollow licensing ruling is in <@&123456789012345678> see [the order]"
    "(http://evil.example/x) and https://evil.example/a_b and discord.gg/raid ```py print('x')``` "
    "**Vexhollow** __licensing__ ||spoiler|| `tick` ~~strike~~ and the judge said the ruling "
    "binds every party " + "and the Vexhollow licensing dispute continued with further filings " * 120
    + "until the end.",
    "# Not a heading but the Vexhollow licensing ruling again, with <@987654321098765432> and "
    "@here, followed by a long run of words about licensing that goes on and on and on so that "
    "this paragraph alone is long enough to be a passage of its own in the index.",
]


async def test_hostile_and_enormous_article_text_fits_and_stays_inert(
        encoder: Encoder, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    for i in range(3):
        write_html_article(corpus, f"vex{i}",
                           title=f"[Vexhollow](http://evil.example) @everyone ruling {i}",
                           url=f"https://news{i}.example/vexhollow-{i}",
                           published=f"2026-11-0{i + 1}",
                           outlet=f"<@&1234567890123456789> **Outlet {i}**",
                           paragraphs=HOSTILE_PARAGRAPHS)
    data_dir = tmp_path / "index"
    summary = await ingest([str(corpus)], index_settings(data_dir), encoder)
    assert summary.published, summary.failures
    async with running_docket(encoder, data_dir, tmp_path / "state") as d:
        rec = await d.fake.dispatch_slash("ask", {"question": "What happened in the Vexhollow "
                                                              "licensing ruling?"})
        reply = await rec.wait_for_reply(timeout=15)
        embed = reply["embeds"][0]
        assert render.embed_problems(discord.Embed.from_dict(embed)) == []
        assert len(embed["description"]) <= 4096
        assert_inert(embed["description"])
        assert f"@{ZWSP}everyone" in embed["description"] and "…”" in embed["description"]
        assert reply["pinged"] == [] and reply["mention_roles"] == []

        mention = await d.fake.dispatch_message(f"{d.fake.bot_user.mention} Vexhollow ruling?")
        answer = await d.fake.wait_for_channel_message(
            d.fake.general, lambda m: m.get("referenced_message", {}).get("id") == mention["id"],
            timeout=15)
        assert answer["pinged"] == [] and answer["mention_everyone"] is False
        latest = await (await d.fake.dispatch_slash("latest")).wait_for_reply(timeout=15)
        assert_inert(latest["embeds"][0]["description"])
        d.fake.assert_clean()  # the fake enforces every limit: no violation recorded
