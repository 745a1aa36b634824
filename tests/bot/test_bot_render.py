"""Rendering against Discord's documented limits, and hostile article text made inert."""

from __future__ import annotations

import json
import re
import unicodedata

import discord
import pytest
from docket_harness import ZWSP, assert_inert
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as s

from bot import render, safetext
from bot.service import SourcesReport, StatusReport
from index.results import Result, SearchResponse

HOSTILE = ("@everyone look: <@&123456789012345678> and <@987654321098765432> [click me](http://evil.example/x_y) "
           "```py\nimport os\n``` **bold** __under__ ~~gone~~ ||spoiler|| `tick` # Heading\n"
           "> quoted\n-# small\n1. listed\n<https://evil.example> discord.gg/raid "
           "https://evil.example/a_b_c <#123> </ask:1> <t:1700000000> \\*escaped\\* @here")

# Characters Discord gives meaning to, plus ordinary text, newlines and look-alikes.
MARKUP = s.sampled_from([*"*_~|`[]()<>#-@:/\\!.&+=\n ", "://", "@everyone", "@here",
                         "<@&123456789012345678>", "[x](http://e.co)", "```", "discord.gg/x",
                         "https://", "http://", "\u202e", "\u2066", "\x1b[2J", "\x00", "\x08",
                         "\x7f", "\x85", "\t", "\ue000", "é", "日本", "🙂"])
ARTICLE_TEXT = s.lists(s.one_of(MARKUP, s.text(alphabet="abcdefghij XYZ.,", max_size=12)),
                       max_size=60).map("".join)


def result(snippet: str = "OpenAI released Sora 2 on September 30.", *, title: str = "A title",
           outlet: str = "Outlet", url: str = "https://example.com/a", highlights=(),
           also=()) -> Result:
    return Result(url=url, title=title, outlet=outlet, published="2025-10-06", snippet=snippet,
                  score=0.1, relevance=0.7, highlights=list(highlights),
                  also_reported_by=[u for _, u in also],
                  also_reported_by_outlets=[o for o, _ in also])


def response(*results: Result, query: str = "What happened?") -> SearchResponse:
    return SearchResponse(query=query, abstained=False, results=list(results), has_more=True,
                          passages_searched=148, snapshot="snap")


def decode(markdown: str) -> tuple[str, list[str]]:
    """Read escaped text the way Discord would: the literal characters and the bold runs.

    Fails on any character Discord would treat as markup that was not escaped, and on
    a zero-width space anywhere but where Docket puts them (after "@", "<", a scheme's
    ":" and "discord").
    """
    out: list[str] = []
    bold: list[str] = []
    current: list[str] | None = None
    i = 0
    while i < len(markdown):
        ch = markdown[i]
        if ch == "\\":
            assert i + 1 < len(markdown), f"dangling backslash in {markdown!r}"
            out.append(markdown[i + 1])
            if current is not None:
                current.append(markdown[i + 1])
            i += 2
            continue
        if markdown.startswith("**", i):
            if current is None:
                current = []
            else:
                bold.append("".join(current))
                current = None
            i += 2
            continue
        assert ch not in "*_~|`[]>", f"unescaped {ch!r} at {i} in {markdown!r}"
        if ch in "@<":
            assert markdown[i + 1:i + 2] == ZWSP, f"live {ch!r} at {i} in {markdown!r}"
        if ch == ZWSP:
            before = markdown[:i]
            assert before.endswith(("@", "<", ":", "discord", "discordapp")), \
                f"stray zero-width space at {i} in {markdown!r}"
            i += 1
            continue
        out.append(ch)
        if current is not None:
            current.append(ch)
        i += 1
    assert current is None, f"unclosed bold in {markdown!r}"
    return "".join(out), bold


# -- escaping -------------------------------------------------------------------------------

# Discord's bidirectional overrides and isolates: they reorder what a reader sees.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
PLACEHOLDERS = frozenset("\ue000\ue001\ue002\ue003\ue004")  # the escaper's own markers


def shown(text: str) -> str:
    """What a reader should see of `text`, worked out here from Unicode categories rather than
    by the code under test: control characters (category Cc) other than tab and newline and
    the bidi controls are dropped; the escaper's private-use markers become U+FFFD."""
    return "".join("\ufffd" if ch in PLACEHOLDERS else ch for ch in text
                   if ch in "\t\n" or not (unicodedata.category(ch) == "Cc" or ch in BIDI_CONTROLS))


def bold_runs(text: str, spans: list[tuple[int, int]]) -> list[str]:
    """The runs a reader should see in bold: each maximal stretch of characters covered by
    some span (clipped to the text), as shown and without surrounding whitespace."""
    covered = [False] * len(text)
    for start, end in spans:
        for i in range(max(start, 0), min(end, len(text))):
            covered[i] = True
    runs, i = [], 0
    while i < len(text):
        if not covered[i]:
            i += 1
            continue
        j = i
        while j < len(text) and covered[j]:
            j += 1
        runs.append(shown(text[i:j]).strip())
        i = j
    return [run for run in runs if run]


def test_escape_makes_hostile_text_inert_and_keeps_it_readable() -> None:
    escaped = safetext.escape(HOSTILE)
    assert_inert(escaped)
    literal, bold = decode(escaped)
    assert bold == []
    assert literal == HOSTILE  # every character shown as typed (HOSTILE has no invisible ones)


@pytest.mark.parametrize(("text", "expected"), [
    ("@everyone", f"@{ZWSP}everyone"),
    ("<@123>", f"<{ZWSP}@{ZWSP}123\\>"),
    ("[click](http://evil.example/x_y)", f"\\[click\\](http:{ZWSP}//evil.example/x\\_y)"),
    ("**bold** __under__ ~~gone~~ ||spoiler|| `tick`",
     "\\*\\*bold\\*\\* \\_\\_under\\_\\_ \\~\\~gone\\~\\~ \\|\\|spoiler\\|\\| \\`tick\\`"),
    ("# Heading\n> quoted\n-# small\n1. listed", "\\# Heading\n\\> quoted\n\\-# small\n1\\. listed"),
    ("discord.gg/raid <#1> </ask:1> <t:1700000000>",
     f"discord{ZWSP}.gg/raid <{ZWSP}#1\\> <{ZWSP}/ask:1\\> <{ZWSP}t:1700000000\\>"),
    ("\\*escaped\\*", "\\\\\\*escaped\\\\\\*"),
    ("right\u202eleft\x00\x1b[2J", "rightleft\\[2J"),
])
def test_escape_of_each_kind_of_markup(text: str, expected: str) -> None:
    assert safetext.escape(text) == expected


@given(ARTICLE_TEXT)
def test_escaped_text_reads_back_verbatim(text: str) -> None:
    literal, bold = decode(safetext.escape(text))
    assert literal == shown(text)
    assert bold == []


@given(ARTICLE_TEXT, s.lists(s.tuples(s.integers(-5, 80), s.integers(-5, 80)), max_size=5))
@example("Sora 2 and Sora 3", [(0, 4), (4, 6)])  # touching spans: one bold run
@example("Sora 2 and Sora 3", [(0, 6), (2, 4), (11, 99)])  # nested; past the end
@example("a \x00 b", [(1, 4)])  # only whitespace and a control character: nothing bold
@example("**x** _y_", [(0, 5), (6, 9)])  # markup inside a bold run stays literal
def test_highlights_bold_exactly_the_spans(text: str, spans: list[tuple[int, int]]) -> None:
    marked = safetext.escape_highlighted(text, spans)
    literal, bold = decode(marked)
    assert literal == shown(text)
    assert bold == bold_runs(text, spans)


@pytest.mark.parametrize(("text", "spans", "expected"), [
    ("OpenAI released Sora 2 on September 30.", [(0, 6), (16, 22)],
     "**OpenAI** released **Sora 2** on September 30."),
    ("Sora 2 and Sora 3", [(0, 4), (4, 6)], "**Sora 2** and Sora 3"),  # touching: one run
    ("Sora 2 and Sora 3", [(0, 6), (2, 4), (11, 99)], "**Sora 2** and **Sora 3**"),
    ("a \x00 b", [(1, 4)], "a  b"),  # only whitespace and a control character: nothing bold
    ("**x** _y_", [(0, 5), (6, 9)], "**\\*\\*x\\*\\*** **\\_y\\_**"),
    ("ask @everyone now", [(4, 13)], f"ask **@{ZWSP}everyone** now"),
    ("right\u202eleft", [(0, 10)], "**rightleft**"),
])
def test_highlights_of_each_kind(text: str, spans: list[tuple[int, int]], expected: str) -> None:
    assert safetext.escape_highlighted(text, spans) == expected


def test_lines_cannot_start_a_heading_list_or_quote() -> None:
    for line in ("# big", "  ## big", "-# small", "- item", "1. item", "> quote", ">>> quote"):
        escaped = safetext.escape(line)
        assert re.match(r"\s*(\\|\d+\\\.)", escaped), escaped


def test_safe_url_allows_only_web_links_and_encodes_markup() -> None:
    assert safetext.safe_url("javascript:alert(1)") is None
    assert safetext.safe_url("ftp://x.org/f") is None
    assert safetext.safe_url("https://x.org/a (b) [c]") == "https://x.org/a%20%28b%29%20%5Bc%5D"
    assert safetext.safe_url("https://x.org/" + "a" * 600) is None


def test_fit_cuts_at_a_word_and_marks_it() -> None:
    text = "alpha beta gamma delta " * 200
    short = safetext.fit(text, 100)
    assert len(short) <= 100 and short.endswith("…")
    assert short[:-1] == text[: len(short) - 1].rstrip()
    assert text.startswith(short[:-1]) and short[-2] != " "


# -- answers --------------------------------------------------------------------------------

def test_answer_embed_quotes_bolds_links_and_footer() -> None:
    r = result("OpenAI released Sora 2 on September 30.", highlights=[(0, 6), (16, 22)],
               also=[("Wire", "https://wire.example/1"), ("Outlet", "https://dup.example")])
    embed = render.answer_embed(response(r), index_age_s=7200)
    data = embed.to_dict()
    desc = data["description"]
    assert desc.startswith("> “**OpenAI** released **Sora 2** on September 30.”")
    assert "**[A title](https://example.com/a)**" in desc
    assert "Outlet · 6 Oct 2025" in desc
    assert "Also reported by [Wire](https://wire.example/1)" in desc
    assert "dup.example" not in desc  # the result's own outlet is not "also" reported
    assert data["footer"]["text"].startswith("Searched 148 passages · index updated 2 hours ago")
    json.dumps(data)


def test_very_long_snippets_stay_within_every_limit() -> None:
    sentence = "The court ruled on the motion and the parties filed briefs. "
    long = sentence * 400 + "x" * 9000
    embed = render.answer_embed(response(*[result(long, title="T" * 600, outlet="O" * 300,
                                                   highlights=[(0, 9), (50, 99999)])] * 5),
                                index_age_s=1)
    assert render.embed_problems(embed) == []
    desc = embed.description or ""
    assert len(desc) <= safetext.EMBED_DESCRIPTION_MAX
    assert len(embed.title or "") <= safetext.EMBED_TITLE_MAX
    for block in desc.split("\n\n"):
        quote = block.split("\n")[0].replace("**", "")
        assert quote.endswith("filed briefs.…”"), quote  # cut after a sentence, marked


def test_one_enormous_word_is_cut_by_characters() -> None:
    embed = render.answer_embed(response(result("y" * 20000)))
    assert render.embed_problems(embed) == []
    assert "y…”" in (embed.description or "")


def test_hostile_article_text_is_inert_in_the_answer() -> None:
    r = result(HOSTILE, title=HOSTILE[:200], outlet="@everyone <@&1>", highlights=[(0, 9)],
               also=[("[evil](http://x)", "https://wire.example")])
    embed = render.answer_embed(response(r, query="@everyone [q](http://q.example) **x**"))
    data = embed.to_dict()
    for text in (data["title"], data["description"], data["footer"]["text"]):
        assert_inert(text)


def test_abstention_is_short_and_points_to_latest() -> None:
    text = render.abstain_text(SearchResponse(query="banana bread", abstained=True, results=[]))
    assert text.startswith("I found nothing in the news index about that.")
    assert "/latest" in text


results_strategy = s.builds(
    result, ARTICLE_TEXT.map(lambda t: t * 30), title=ARTICLE_TEXT, outlet=ARTICLE_TEXT,
    url=s.sampled_from(["https://a.example/x", "https://b.example/(y)", "javascript:1", "",
                        "https://c.example/" + "p" * 700]),
    highlights=s.lists(s.tuples(s.integers(0, 3000), s.integers(0, 3000)), max_size=6),
    also=s.lists(s.tuples(ARTICLE_TEXT, s.sampled_from(["https://w.example/1", "bad"])),
                 max_size=30))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(s.lists(results_strategy, min_size=1, max_size=5), ARTICLE_TEXT, ARTICLE_TEXT)
def test_property_answers_never_exceed_limits_or_leak_markup(
        results: list[Result], query: str, notice: str) -> None:
    resp = response(*results, query=query)
    resp.notice = notice or None
    embed = render.answer_embed(resp, index_age_s=5)
    assert render.embed_problems(embed) == []
    data = embed.to_dict()
    assert render.embed_length(embed) <= safetext.EMBED_TOTAL_MAX
    assert_inert(data.get("title", ""))
    assert_inert(data["description"])
    for block in data["description"].split("\n\n"):
        lines = block.split("\n")
        if not lines[0].startswith(">"):
            continue
        quote = "\n".join(line[2:] if line.startswith("> ") else line[1:]
                          for line in lines if line.startswith(">"))
        literal, _ = decode(quote)
        body = literal.removeprefix("“").removesuffix("”").removesuffix("…").rstrip()
        # Every quote is the start of its article text, verbatim (as shown: no controls).
        assert any(shown(r.snippet).startswith(body) for r in results), body


# -- other embeds ---------------------------------------------------------------------------

def test_latest_embed_lists_newest_first_within_limits() -> None:
    items = [result("Lede " * 500, title=f"Story {i}") for i in range(10)]
    embed = render.latest_embed(items, topic="@everyone music", days=7)
    assert render.embed_problems(embed) == []
    assert_inert(embed.title or "")
    assert (embed.description or "").count("**6 Oct 2025**") == 10
    assert "Nothing in the news index" in (render.latest_embed([], topic=None, days=3).description or "")


def test_sources_embed_with_a_thousand_outlets() -> None:
    report = SourcesReport(outlets=[(f"Outlet {i} <@1>", i) for i in range(1000)], articles=5000,
                           configured=[], using_sample=True)
    embed = render.sources_embed(report)
    assert render.embed_problems(embed) == []
    assert "more outlets" in (embed.description or "")
    assert_inert(embed.description or "")


def test_status_embed_fields_within_limits() -> None:
    report = StatusReport(articles=42, passages=148, stories=41, snapshot="20251127-abc",
                          built_at=None, age_seconds=90000, model="m", vector_index="flat",
                          last_ingest={"new": 2, "updated": 1, "unchanged": 39, "failed": 0,
                                       "seconds": 3.2},
                          uptime_seconds=3725, latency_p50_ms=31, latency_p95_ms=80,
                          searches_measured=12, reload_error="x" * 5000, reindex=None,
                          feedback={"answers": 3, "up": 2, "down": 1})
    embed = render.status_embed(report)
    assert render.embed_problems(embed) == []
    fields = {f.name: f.value for f in embed.fields}
    assert fields["Uptime"] == "1h 2m"
    assert fields["Last ingest"] == "2 new, 1 updated, 39 unchanged, 0 failed in 3s"
    assert "p95 80 ms" in (fields["Search latency"] or "")


def test_help_embed_within_limits() -> None:
    assert render.embed_problems(render.help_embed()) == []


def test_check_embed_refuses_what_it_cannot_trim() -> None:
    embed = discord.Embed(title="t")
    for i in range(26):
        embed.add_field(name=f"f{i}", value="v")
    assert len(render.check_embed(embed).fields) == 25
    bad = discord.Embed(title="t").add_field(name="n", value="v" * 2000)
    with pytest.raises(ValueError, match="field 0 value"):
        render.check_embed(bad)


@pytest.mark.parametrize(("published", "shown"), [("2025-10-03", "3 Oct 2025"),
                                                   ("2025-10-03T10:00:00Z", "3 Oct 2025"),
                                                   (None, "undated"), ("soon", "undated")])
def test_human_date(published: str | None, shown: str) -> None:
    assert render.human_date(published) == shown


def test_text_form_is_plain_and_safe_for_a_terminal() -> None:
    from bot import textforms

    r = result("Evil \x1b[2J text with **stars** and @everyone", highlights=[(0, 4)])
    text = textforms.answer_text(response(r), color=False)
    assert "\x1b" not in text and "**stars**" in text
    colored = textforms.answer_text(response(r), color=True)
    assert colored.count("\x1b[1m") == 1 and "\x1b[2J" not in colored
    assert re.search(r"1\. A title", text)
