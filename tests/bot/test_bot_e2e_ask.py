"""/ask, its buttons, and questions in chat, through the real discord.py client and FakeDiscord."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from docket_harness import (
    EPHEMERAL,
    JAPAN,
    assert_inert,
    caught_up,
    custom_ids,
    public_bot_messages,
    published_manifest,
    running_docket,
)

from bot.feedback import DB_FILE
from index.embed import Encoder

pytestmark = pytest.mark.asyncio(loop_scope="function")

BANANA = "What is the best recipe for banana bread?"


async def test_ask_defers_at_once_then_answers_with_one_embed(encoder: Encoder, sample_index: Path,
                                                              tmp_path: Path) -> None:
    async with running_docket(encoder, sample_index, tmp_path) as d:
        rec = await d.fake.dispatch_slash("ask", {"question": JAPAN}, user=d.fake.member)
        reply = await rec.wait_for_reply(timeout=15)
        assert rec.callback_type == 5  # deferred ("thinking") before the search
        # Within Discord's window (timed from the interaction going out to the callback arriving).
        assert rec.ack_latency is not None and rec.ack_latency < d.fake.ack_window == 3.0
        assert reply["content"] == "" and len(reply["embeds"]) == 1
        embed = reply["embeds"][0]
        assert embed["title"] == JAPAN
        desc = embed["description"]
        assert desc.count("\n> “") + desc.startswith("> “") == 3  # three quoted results
        assert "**Sora 2**" in desc  # key terms in bold
        assert "(https://www.gamesradar.com/" in desc and "GamesRadar+ · 15 Oct 2025" in desc
        passages = published_manifest(sample_index)["passages"]
        assert embed["footer"]["text"].startswith(f"Searched {passages:,} passages · index updated")
        ids = custom_ids(reply)
        assert ids[0].startswith("docket:more:") and ids[1].endswith(":up") and ids[2].endswith(":down")
        assert reply["pinged"] == [] and not reply["flags"] & EPHEMERAL
        d.fake.assert_clean()


async def test_nothing_relevant_gets_an_honest_short_reply(encoder: Encoder, sample_index: Path,
                                                           tmp_path: Path) -> None:
    async with running_docket(encoder, sample_index, tmp_path) as d:
        rec = await d.fake.dispatch_slash("ask", {"question": BANANA})
        reply = await rec.wait_for_reply(timeout=15)
        assert reply["content"].startswith("I found nothing in the news index about that.")
        assert "/latest" in reply["content"] and reply["embeds"] == []
        d.fake.assert_clean()


async def test_an_unsearchable_question_gets_an_ephemeral_hint(encoder: Encoder, sample_index: Path,
                                                               tmp_path: Path) -> None:
    async with running_docket(encoder, sample_index, tmp_path) as d:
        rec = await d.fake.dispatch_slash("ask", {"question": "?!?! ..."})
        reply = await rec.wait_for(lambda m: m["_kind"] == "followup", timeout=15)
        assert reply["flags"] & EPHEMERAL and "no words to search for" in reply["content"]
        # The public "thinking" placeholder was removed, not turned into a public error.
        assert [m["_kind"] for m in rec.messages] == ["deferred", "delete", "followup"]
        assert public_bot_messages(d.fake, d.fake.general) == []
        d.fake.assert_clean()


async def test_fast_askers_are_told_when_to_try_again(encoder: Encoder, sample_index: Path,
                                                      tmp_path: Path) -> None:
    async with running_docket(encoder, sample_index, tmp_path, cooldown_rate=1,
                              cooldown_per_s=60) as d:
        first = await d.fake.dispatch_slash("ask", {"question": JAPAN})
        await first.wait_for_reply(timeout=15)
        second = await d.fake.dispatch_slash("ask", {"question": JAPAN})
        refusal = await second.wait_for_reply()
        assert second.callback_type == 4 and refusal["flags"] & EPHEMERAL
        assert "try again in" in refusal["content"] and " s." in refusal["content"]
        other = await d.fake.dispatch_slash("ask", {"question": JAPAN}, user=d.fake.admin)
        assert (await other.wait_for_reply(timeout=15))["embeds"]  # per user, not global
        d.fake.assert_clean()


async def test_more_shows_the_next_results_and_votes_are_stored(encoder: Encoder, sample_index: Path,
                                                                tmp_path: Path) -> None:
    async with running_docket(encoder, sample_index, tmp_path) as d:
        rec = await d.fake.dispatch_slash("ask", {"question": JAPAN})
        answer = await rec.wait_for_reply(timeout=15)
        more_id, up_id, down_id = custom_ids(answer)

        click = await d.fake.dispatch_component(answer, more_id, user=d.fake.admin)
        page2 = await click.wait_for_reply(timeout=15)
        assert page2["flags"] & EPHEMERAL and page2["embeds"]
        assert "page 2" in page2["embeds"][0]["footer"]["text"]
        first_links = {line for line in answer["embeds"][0]["description"].split("\n") if "](" in line}
        second_links = {line for line in page2["embeds"][0]["description"].split("\n") if "](" in line}
        assert first_links and second_links and not first_links & second_links

        vote = await d.fake.dispatch_component(answer, up_id, user=d.fake.member)
        thanks = await vote.wait_for_reply()
        assert thanks["flags"] & EPHEMERAL and "Thanks" in thanks["content"]
        assert vote.callback_type == 5  # acknowledged ("thinking") before the database work
        vote = await d.fake.dispatch_component(answer, down_id, user=d.fake.member)
        await vote.wait_for_reply()
        with sqlite3.connect(tmp_path / DB_FILE) as db:
            rows = db.execute("SELECT a.question, a.urls, v.user_id, v.vote FROM votes v "
                              "JOIN answers a ON a.id = v.answer_id").fetchall()
        assert len(rows) == 1
        question, urls, user_id, value = rows[0]
        assert question == JAPAN and "gamesradar.com" in urls
        assert user_id == d.fake.member.id and value == -1  # the later vote replaced the first

        # An answer whose row is gone explains itself instead of failing.
        with sqlite3.connect(tmp_path / DB_FILE) as db:
            db.execute("DELETE FROM answers")
        stale = await d.fake.dispatch_component(answer, more_id)
        assert "too old" in (await stale.wait_for_reply())["content"]
        d.fake.assert_clean()


async def test_buttons_keep_working_after_a_restart(encoder: Encoder, sample_index: Path,
                                                    tmp_path: Path) -> None:
    async with running_docket(encoder, sample_index, tmp_path) as d:
        answer = await (await d.fake.dispatch_slash("ask", {"question": JAPAN})).wait_for_reply(timeout=15)
        fake = d.fake
        up_id = custom_ids(answer)[1]
        await fake.stop_bot(d.bot)
        async with running_docket(encoder, sample_index, tmp_path, fake=fake) as again:
            click = await again.fake.dispatch_component(answer, up_id)
            assert "Thanks" in (await click.wait_for_reply(timeout=10))["content"]


async def test_hostile_question_is_echoed_inert(encoder: Encoder, sample_index: Path,
                                                tmp_path: Path) -> None:
    hostile = f"@everyone <@&{1234567890123456789}> [Sora](http://evil.example) ```x``` **Japan** OpenAI Sora 2"
    async with running_docket(encoder, sample_index, tmp_path) as d:
        rec = await d.fake.dispatch_slash("ask", {"question": hostile})
        reply = await rec.wait_for_reply(timeout=15)
        embed = reply["embeds"][0]
        assert_inert(embed["title"])
        assert_inert(embed["description"])
        assert reply["pinged"] == [] and reply["mention_everyone"] is False
        d.fake.assert_clean()


async def test_mentions_and_replies_are_answered_other_messages_ignored(
        encoder: Encoder, sample_index: Path, tmp_path: Path) -> None:
    async with running_docket(encoder, sample_index, tmp_path) as d:
        fake = d.fake
        await fake.dispatch_message("just chatting about Sora 2", author=fake.member)
        question = await fake.dispatch_message(f"{fake.bot_user.mention} {JAPAN}", author=fake.member)
        answer = await fake.wait_for_channel_message(fake.general, timeout=15)
        assert answer["referenced_message"]["id"] == question["id"]
        assert answer["embeds"][0]["title"] == JAPAN and answer["pinged"] == []

        follow_up = await fake.dispatch_message("What did Disney agree with OpenAI?",
                                                author=fake.admin, reply_to=answer)
        second = await fake.wait_for_channel_message(
            fake.general, lambda m: m.get("referenced_message", {}).get("id") == follow_up["id"],
            timeout=15)
        assert "Disney" in second["embeds"][0]["description"]
        await caught_up(d)
        assert len(public_bot_messages(fake, fake.general)) == 2  # nothing for the plain chat message

        empty = await fake.dispatch_message(fake.bot_user.mention, author=fake.member)
        hint = await fake.wait_for_channel_message(
            fake.general, lambda m: m.get("referenced_message", {}).get("id") == empty["id"])
        assert "Ask me a question" in hint["content"]
        fake.assert_clean()


async def test_the_bot_ignores_itself_and_other_bots(encoder: Encoder, sample_index: Path,
                                                     tmp_path: Path) -> None:
    async with running_docket(encoder, sample_index, tmp_path) as d:
        fake = d.fake
        other_bot = fake.world.add_member("otherbot", bot=True)
        await fake.dispatch_message(f"{fake.bot_user.mention} {JAPAN}", author=other_bot)
        await fake.dispatch_message(f"{fake.bot_user.mention} {JAPAN}", author=fake.bot_user)
        await fake.dispatch_message(f"{fake.bot_user.mention} {JAPAN}", author=fake.member)
        await fake.wait_for_channel_message(fake.general, timeout=15)
        # Its own answer (which mentions nobody) came back over the gateway: no loop.
        await caught_up(d)  # every delivery handled: the three messages and the answer's echo
        assert len(fake.gateway.events("MESSAGE_CREATE")) == 4
        answers = [m for m in public_bot_messages(fake, fake.general) if m["embeds"]]
        assert len(answers) == 1
        assert answers[0]["referenced_message"]["author"]["id"] == str(fake.member.id)
        fake.assert_clean()


async def test_echoed_everyone_pings_nobody(encoder: Encoder, sample_index: Path,
                                            tmp_path: Path) -> None:
    async with running_docket(encoder, sample_index, tmp_path) as d:
        fake = d.fake
        sent = await fake.dispatch_message(
            f"{fake.bot_user.mention} @everyone {fake.moderator_role.mention} {fake.admin.mention} "
            "what did Japan ask OpenAI about Sora 2?", author=fake.member)
        assert "everyone" in sent["pinged"]  # the user's own message did ping
        reply = await fake.wait_for_channel_message(fake.general, timeout=15)
        assert reply["pinged"] == [] and reply["mention_everyone"] is False
        assert reply["mention_roles"] == [] and reply["mentions"] == []
        assert_inert(reply["embeds"][0]["title"])
        fake.assert_clean()


async def test_chat_only_in_enabled_channels_and_threads_on_request(
        encoder: Encoder, sample_index: Path, tmp_path: Path) -> None:
    async with running_docket(encoder, sample_index, tmp_path, answer_channels=("bot-commands",),
                              thread_answers=True) as d:
        fake = d.fake
        await fake.dispatch_message(f"{fake.bot_user.mention} {JAPAN}", channel=fake.general)
        await fake.dispatch_message(f"{fake.bot_user.mention} {JAPAN}", channel=fake.bot_commands)
        await fake.wait_until(lambda: fake.threads_created, timeout=15)
        thread = fake.threads_created[0]
        answer = await fake.wait_for_channel_message(thread, timeout=15)
        assert answer["embeds"][0]["title"] == JAPAN and thread.name == JAPAN
        await caught_up(d)  # the question in #general handled too, not only the one answered
        assert public_bot_messages(fake, fake.general) == []
        assert [t.parent_id for t in fake.threads_created] == [fake.bot_commands.id]
        fake.assert_clean()


async def test_answers_resume_after_a_gateway_reconnect(encoder: Encoder, sample_index: Path,
                                                        tmp_path: Path) -> None:
    async with running_docket(encoder, sample_index, tmp_path) as d:
        fake = d.fake
        await fake.dispatch_message(f"{fake.bot_user.mention} {JAPAN}")
        await fake.wait_for_channel_message(fake.general, timeout=15)
        await fake.request_reconnect()  # op 7: resume, not re-identify
        assert fake.gateway.resume_count == 1 and fake.gateway.identify_count == 1
        rec = await fake.dispatch_slash("ask", {"question": JAPAN})
        assert (await rec.wait_for_reply(timeout=15))["embeds"]
        await caught_up(d)
        assert len(public_bot_messages(fake, fake.general)) == 2  # the first question not re-answered

        # The socket drops; a question asked meanwhile is replayed on RESUME and answered once.
        await fake.drop_connection(wait=False)
        missed = await fake.dispatch_message(f"{fake.bot_user.mention} {JAPAN}")
        await fake.wait_until(lambda: fake.gateway.resume_count == 2, timeout=15)
        await fake.wait_for_channel_message(
            fake.general, lambda m: m.get("referenced_message", {}).get("id") == missed["id"],
            timeout=15)
        await caught_up(d)
        assert len(public_bot_messages(fake, fake.general)) == 3
        assert fake.gateway.identify_count == 1
        fake.assert_clean()
