"""Hostile articles: pages, feeds and files written to break the ingest or to smuggle something
into the index. Each is dealt with in bounded time and memory, with a reason recorded when it
is refused, and nothing else is affected: the good sources of the same run are ingested and
the articles already indexed keep their text.

Covered elsewhere (tests/index/test_bad_input.py) and not repeated: a local binary file, a 50 MB
*feed* (announced and streamed), a redirect loop and endless redirects given as sources, a
server that says nothing until the timeout. Here: script and style blocks, Markdown and Discord
mention syntax in article text, invalid UTF-8 (pages, Markdown, feeds), a 50 MB *page*
(streamed, announced, and gzip-compressed to 2 MB), a binary served as text/html, a redirect
loop reached through a feed's link, a server that sends one byte a second, a feed of 10,000
items, duplicate GUIDs.

The whole hostile run goes through the real CLI in a child process, so that its wall time and
its peak memory (VmHWM) can be compared with a run of the good sources alone.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

import pytest

from index import snapshot
from index.errors import SourceError
from index.extract import feed_item_document, parse_feed
from index.fetch import Fetcher
from index.service import DocketIndex
from index.sources import collect
from index.urls import canonical_url
from index.verify import verify

REPO = Path(__file__).resolve().parents[2]
JAPAN_URL = ("https://www.gamesradar.com/entertainment/anime-shows/japanese-government-officials-say-"
             "manga-and-anime-are-irreplaceable-treasures-ask-openai-to-prevent-copyright-"
             "infringement-and-insist-japan-should-take-the-lead-in-regulating-ai")
HOST = "https://hostile.example.org"
TIMEOUT_S = 3.0          # fetch.timeout_s for the hostile run
MAX_ITEMS = 25           # fetch.max_items_per_feed for the hostile run
FLOOD_ITEMS = 10_000
FIFTY_MB = 50 * 1024 * 1024
MAX_BYTES = 5_000_000    # the documented default fetch.max_bytes, left as it is
RUN_LIMIT_S = 60.0       # the whole hostile run (measured: about 6 s, half of it the trickle)
# Peak RSS above that of a run of the good sources alone. Measured: about 140 MB, of which
# ~100 MB is feedparser holding all 10,000 items (it has no streaming mode; fetch.max_bytes
# bounds the feed) and the rest trafilatura and embedding 36 more articles. The 50 MB page,
# announced, streamed or gzipped, adds nothing; parsed whole it would cost about 1 GB.
RSS_GROWTH_LIMIT_MB = 400.0

# Strings that live only inside <script>, <style>, <noscript> or event handlers: never article text.
HIDDEN = ["SCRIPTMARK", "STYLEMARK", "LDJSONMARK", "NOSCRIPTMARK", "HANDLERMARK", "SVGSTYLEMARK",
          "IFRAMEMARK"]
# Markdown and Discord syntax written as plain text in an article: kept verbatim (the bot escapes).
MARKUP = [
    "@everyone", "@here", "[the ruling](http://evil.example/phish)",
    "<@&123456789012345678>", "<@!987654321098765432>", "<#111111111111111111>",
    "**bold**", "__underline__", "~~strike~~", "||spoiler||", "`inline code`",
    "```python print('pwned') ```", "# not a heading", "> like this one",
]


# --------------------------------------------------------------------------- hostile content

def _script_style_page(writers) -> str:
    body = writers.body("Larchmont", 10).split("\n")
    paras = "\n".join(f"<p>{escape(p)}</p>" for p in body[:4])
    rest = "\n".join(f"<p>{escape(p)}</p>" for p in body[4:])
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>Larchmont case</title>
<link rel="canonical" href="{HOST}/script-style">
<script>var a = "SCRIPTMARK The court heard that the training copies were never licensed.";</script>
<style>body {{ color: red }} /* STYLEMARK in the head */</style>
<script type="application/ld+json">{{"@type": "NewsArticle", "articleBody": "LDJSONMARK the body"}}</script>
</head><body><article><h1>Larchmont case</h1>
{paras}
<script>document.write("SCRIPTMARK The judge asked both sides to file further briefs.");</script>
<style>.x::after {{ content: "STYLEMARK in the body" }}</style>
<noscript><p>NOSCRIPTMARK Please enable JavaScript to read about the Larchmont ruling.</p></noscript>
<p onclick="alert('HANDLERMARK')">Writing about code, the filing quoted &lt;script&gt;alert(1)&lt;/script&gt; as text.</p>
<svg><style>SVGSTYLEMARK {{ fill: red }}</style></svg>
<iframe srcdoc="&lt;p&gt;IFRAMEMARK&lt;/p&gt;"></iframe>
{rest}
</article></body></html>"""


def _markup_paragraphs(writers, topic: str) -> list[str]:
    body = writers.body(topic, 8).split("\n")
    return [
        *body[:3],
        "Hey @everyone and @here, read [the ruling](http://evil.example/phish) before it is gone.",
        "Ping the role <@&123456789012345678>, the user <@!987654321098765432> and the channel "
        "<#111111111111111111>.",
        "Formatting seen: **bold**, __underline__, ~~strike~~, ||spoiler||, `inline code` "
        "and # not a heading.",
        "A fence: ```python print('pwned') ``` and a quote > like this one.",
        *body[3:],
    ]


def _bad_utf8(data: bytes) -> bytes:
    """Stray and truncated UTF-8 in an otherwise valid UTF-8 text."""
    return (data.replace(b"grey Tuesday", b"grey \xff\xfe Tuesday \x80")
                .replace(b"thirty days", b"thirty \xe2\x82 days \xc0\xaf"))


ACCENTED = "The café owner’s “naïve” lawsuit, filed in Zürich, named Ørsted."


def _flood_feed(items: int) -> bytes:
    """An RSS feed of `items` distinct full-text items, kept under MAX_BYTES."""
    words = ("the court heard that training copies of the works were never licensed and the "
             "publishers asked for damages while the defendant said its model learned only "
             "facts from the texts it read").split()
    parts = []
    for i in range(items):
        text = " ".join(words[(i + j) % len(words)] for j in range(42))
        parts.append(f"<item><title>Flood item {i}</title><link>https://flood.example.org/{i}</link>"
                     f"<content:encoded>&lt;p&gt;Item {i}: {text}.&lt;/p&gt;</content:encoded></item>")
    return ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>Flood</title>'
            + "".join(parts) + "</channel></rss>").encode()


def _dupes_feed(writers) -> tuple[str, set[str]]:
    """Items that repeat or share GUIDs; returns the feed and the article URLs it should give."""
    def item(guid: str, link: str, topic: str) -> str:
        paras = "".join(f"<p>{escape(p)}</p>" for p in writers.body(topic, 8).split("\n"))
        return (f"<item><title>{topic}</title><link>{link}</link><guid isPermaLink=\"false\">{guid}"
                f"</guid><pubDate>Mon, 03 Mar 2025 10:00:00 GMT</pubDate>"
                f"<content:encoded><![CDATA[{paras}]]></content:encoded></item>")

    d = "https://dupes.example.org"
    items = [item("dup-1", f"{d}/a", "Ashgrove")] * 3  # one item, three times over
    items += [item("dup-2", f"{d}/b", "Bellmere"), item("dup-2", f"{d}/c", "Corriston"),  # one GUID,
              item("dup-1", f"{d}/d", "Dunhollow"),  # two stories; a GUID reused for a third
              item("e-1", f"{d}/e", "Elderby"), item("e-2", f"{d}/e", "Fallowmere")]  # one link twice
    feed = ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>Dupes</title>'
            + "".join(items) + "</channel></rss>")
    return feed, {f"{d}/{x}" for x in "abcde"}


# --------------------------------------------------------------------------- server routes

@dataclass
class Served:
    """What the hostile routes sent, as the server saw it."""

    bytes_sent: dict[str, int] = field(default_factory=dict)


def _stream_route(server, served: Served, path: str, total: int, *, content_type: str,
                  announce: bool) -> str:
    chunk = b"<p>" + b"The court heard that the training copies were never licensed. " * 1000 + b"</p>\n"

    def serve(h) -> None:
        h.send_response(200)
        h.send_header("Content-Type", content_type)
        if announce:
            h.send_header("Content-Length", str(total))
        h.end_headers()
        sent = 0
        served.bytes_sent[path] = 0
        h.wfile.write(b"<!DOCTYPE html><html><head><title>Huge</title></head><body><article>")
        while sent < total and not server.stopping.is_set():
            h.wfile.write(chunk)
            sent += len(chunk)
            served.bytes_sent[path] = sent

    server.routes[path] = serve
    return server.url(path)


def _gzip_bomb() -> bytes:
    """2 GB of HTML, gzip-compressed to about 2 MB."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b"<p>" + b"a" * (1024 * 1024 - 3)
    parts = [deflate.compress(b"<!DOCTYPE html><html><body><article>")]
    parts += [deflate.compress(block) for _ in range(2048)]
    return b"".join([*parts, deflate.flush()])


def _raw_route(server, path: str, body: bytes, content_type: str,
               headers: dict[str, str] | None = None) -> str:
    def serve(h) -> None:
        h.send_response(200)
        h.send_header("Content-Type", content_type)
        for key, value in (headers or {}).items():
            h.send_header(key, value)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    server.routes[path] = serve
    return server.url(path)


TRICKLE_BYTES = 120


def _trickle_route(server, served: Served, path: str, *, in_headers: bool) -> str:
    """One byte a second, for two minutes: of the status line and headers, or of the body."""
    head = b"HTTP/1.0 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
    body = b"<!DOCTYPE html><html><body><article><p>" + b"slow " * 100

    def serve(h) -> None:
        served.bytes_sent[path] = 0
        data = head + body
        if not in_headers:
            h.wfile.write(head)
            data = body
        for byte in data[:TRICKLE_BYTES]:
            if server.stopping.wait(1.0):
                break
            h.wfile.write(bytes([byte]))
            h.wfile.flush()
            served.bytes_sent[path] += 1

    server.routes[path] = serve
    return server.url(path)


# --------------------------------------------------------------------------- the hostile run

@dataclass
class Run:
    returncode: int
    summary: dict[str, Any]
    stderr: str
    seconds: float
    peak_rss_mb: float


# The CLI, plus a report of the process's own peak RSS (VmHWM) as it exits. Not ru_maxrss from
# wait4: on Linux a child's ru_maxrss starts at its parent's peak (fork/vfork, then exec), and
# the parent here is a test session holding the model.
PEAK_WRAPPER = """
import atexit, os, sys


def report_peak():
    with open("/proc/self/status", encoding="ascii") as status:
        peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
    with open(os.environ["HOSTILE_PEAK_FILE"], "w", encoding="ascii") as out:
        out.write(peak)


atexit.register(report_peak)
from index.cli import main

sys.exit(main(sys.argv[1:]))
"""


def _run_cli(data: Path, tmp: Path, sources: list[str], name: str, timeout: float = 300) -> Run:
    """`python -m index ingest --json` in a child; its wall time and peak RSS."""
    feeds = tmp / "no-feeds.toml"
    feeds.write_text("", encoding="utf-8")
    wrapper = tmp / "peak_wrapper.py"
    wrapper.write_text(PEAK_WRAPPER, encoding="utf-8")
    peak_file = tmp / f"{name}.peak"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKET")}
    env.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
                "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])),
                "HOSTILE_PEAK_FILE": str(peak_file),
                "DOCKET_FEEDS": str(feeds), "DOCKET__FETCH__ALLOW_PRIVATE": "127.0.0.1",
                "DOCKET__FETCH__PER_HOST_DELAY_S": "0", "DOCKET__FETCH__TIMEOUT_S": str(TIMEOUT_S),
                "DOCKET__FETCH__MAX_ITEMS_PER_FEED": str(MAX_ITEMS)})
    started = time.monotonic()
    done = subprocess.run([sys.executable, str(wrapper), "--data-dir", str(data), "ingest", "--json",
                           *sources], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)
    seconds = time.monotonic() - started
    lines = done.stdout.strip().splitlines()
    summary = json.loads(lines[-1]) if lines else {}
    peak_kb = int(peak_file.read_text(encoding="ascii")) if peak_file.exists() else 0
    return Run(done.returncode, summary, done.stderr, seconds, peak_kb / 1024)


@dataclass
class Hostile:
    data: Path
    run: Run
    control: Run
    before: dict[str, str]
    urls: dict[str, str]  # name -> the source (or, for what a feed links to, the URL)
    served: Served
    dupes: set[str]

    def failure(self, name: str) -> dict[str, str] | None:
        found = [f for f in self.run.summary["failures"] if f["source"] == self.urls[name]]
        assert len(found) <= 1, found
        return found[0] if found else None


GOOD_PAGE_URL = f"{HOST}/good-page"
GOOD_MD_URL = f"{HOST}/good-markdown"


@pytest.fixture(scope="module")
def hostile(small_base, live, writers, module_http_server, tmp_path_factory) -> Hostile:
    server = module_http_server
    served = Served()
    root = tmp_path_factory.mktemp("hostile")
    shutil.copytree(small_base.parent, root / "base")
    data = root / "base" / "data"
    files = root / "files"
    urls: dict[str, str] = {}

    # Pages.
    urls["script and style blocks"] = server.page("/hostile/script-style.html",
                                                  _script_style_page(writers))
    urls["markdown and mention syntax"] = server.page("/hostile/markup.html", writers.html(
        title="Quillfeather ruling", paragraphs=_markup_paragraphs(writers, "Quillfeather"),
        canonical=f"{HOST}/markup"))
    bad_page = writers.html(title="Ormsby ruling", canonical=f"{HOST}/bad-utf8-page",
                            paragraphs=[ACCENTED, *writers.body("Ormsby", 8).split("\n")])
    urls["invalid UTF-8 page"] = _raw_route(server, "/hostile/bad-utf8.html",
                                            _bad_utf8(bad_page.encode()), "text/html; charset=utf-8")
    urls["50 MB page, streamed"] = _stream_route(server, served, "/hostile/huge.html", FIFTY_MB,
                                                 content_type="text/html", announce=False)
    urls["50 MB page, announced"] = _stream_route(server, served, "/hostile/huge-announced.html",
                                                  FIFTY_MB, content_type="text/html", announce=True)
    urls["2 GB page gzipped to 2 MB"] = _raw_route(server, "/hostile/bomb.html", _gzip_bomb(),
                                                   "text/html", {"Content-Encoding": "gzip"})
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 256
    urls["PNG served as text/html"] = _raw_route(server, "/hostile/photo.html", png,
                                                 "text/html; charset=utf-8")
    noise = bytes(range(1, 256)) * 400  # binary, but without a single NUL byte
    urls["NUL-free binary served as text/html"] = _raw_route(server, "/hostile/noise.html", noise,
                                                             "text/html")
    urls["one byte a second"] = _trickle_route(server, served, "/hostile/trickle.html",
                                               in_headers=False)
    # Feeds.
    urls["feed of 10,000 items"] = _raw_route(server, "/hostile/flood.xml",
                                              _flood_feed(FLOOD_ITEMS), "application/rss+xml")
    dupes_feed, dupes = _dupes_feed(writers)
    urls["duplicate GUIDs"] = server.page("/hostile/dupes.xml", dupes_feed, "application/rss+xml")
    server.redirect("/hostile/loop-b", server.url("/hostile/loop-a"))
    urls["redirect loop linked from a feed"] = server.redirect("/hostile/loop-a", "/hostile/loop-b")
    item_html = (f"<p>{escape(writers.body('Tamsin', 4))}</p><script>SCRIPTMARK()</script>"
                 "<style>p { STYLEMARK: 1 }</style><noscript>NOSCRIPTMARK</noscript>"
                 + "".join(f"<p>{escape(p)}</p>" for p in _markup_paragraphs(writers, "Tamsin")))
    hostile_feed = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>Hostile</title>'
        f"<item><title>Tamsin ruling</title><link>{HOST}/tamsin</link>"
        f"<content:encoded><![CDATA[{item_html}]]></content:encoded></item>"
        f"<item><title>Looping</title><link>{urls['redirect loop linked from a feed']}</link>"
        "<description>Only a summary.</description></item></channel></rss>")
    urls["script and markup in a feed item"] = server.page("/hostile/feed.xml", hostile_feed,
                                                           "application/rss+xml")
    # Local files.
    fence = "```python\nprint('pwned')\n```"
    mentions = writers.markdown(files / "mentions.md", title="Wexcombe ruling", url=f"{HOST}/wexcombe",
                                body="\n".join([*writers.body("Wexcombe", 6).split("\n"),
                                                "Hey @everyone, <@&123456789012345678> and ||spoiler||."]))
    mentions.write_text(mentions.read_text() + "\n" + fence + "\n", encoding="utf-8")
    urls["mention syntax and a fence in Markdown"] = str(mentions)
    bad_md = writers.markdown(files / "bad-utf8.md", title="Pellbrook ruling", url=f"{HOST}/pellbrook",
                              body="\n".join([ACCENTED, *writers.body("Pellbrook", 8).split("\n")]))
    bad_md.write_bytes(_bad_utf8(bad_md.read_bytes()))
    urls["invalid UTF-8 Markdown"] = str(bad_md)
    bad_feed = files / "bad-utf8.xml"
    bad_feed.write_bytes(_bad_utf8(writers.rss([{
        "title": "Quenby ruling", "link": f"{HOST}/quenby", "date": "Mon, 03 Mar 2025 10:00:00 GMT",
        "body": "\n".join([ACCENTED, *writers.body("Quenby", 8).split("\n")])}]).encode()))
    urls["invalid UTF-8 feed"] = str(bad_feed)
    # The good sources: a page on the same server, a Markdown file.
    good_page = server.page("/hostile/good.html", writers.html(
        title="Brindlemoor case", paragraphs=writers.body("Brindlemoor", 9).split("\n"),
        canonical=GOOD_PAGE_URL))
    good_md = writers.markdown(files / "good.md", title="Oakhollow case", url=GOOD_MD_URL,
                               body=writers.body("Oakhollow", 9))
    good = [good_page, str(good_md)]

    before = {url: row["text"] for url, row in live(data).articles().items()}
    # The redirect loop is not given to the ingest: only the hostile feed links to it.
    sources = [u for name, u in urls.items() if name != "redirect loop linked from a feed"]
    run = _run_cli(data, root, [*sources, *good], "hostile")
    shutil.copytree(small_base.parent, root / "control")
    control = _run_cli(root / "control" / "data", root, good, "control")
    return Hostile(data, run, control, before, urls, served, dupes)


# --------------------------------------------------------------------------- the run as a whole

EXPECTED_FAILURES = {
    "50 MB page, streamed": {"too_large"},
    "50 MB page, announced": {"too_large"},
    "2 GB page gzipped to 2 MB": {"too_large"},
    "PNG served as text/html": {"binary"},
    "NUL-free binary served as text/html": {"unsupported", "not_html", "no_article"},
    "one byte a second": {"timeout"},
    "redirect loop linked from a feed": {"redirect_loop"},
}


def test_hostile_run_ends_in_bounded_time_with_partial_failure(hostile, capsys, record_property):
    run, control = hostile.run, hostile.control
    growth = run.peak_rss_mb - control.peak_rss_mb
    record_property("hostile_inputs", len(hostile.urls))
    record_property("hostile_run_s", round(run.seconds, 1))
    record_property("hostile_rss_growth_mb", round(growth))
    with capsys.disabled():
        print(f"\nhostile run: {len(hostile.urls)} hostile inputs + 2 good sources in {run.seconds:.1f} s, "
              f"peak RSS {run.peak_rss_mb:.0f} MB (good sources alone: {control.seconds:.1f} s, "
              f"{control.peak_rss_mb:.0f} MB)")
        for failure in run.summary.get("failures", []):
            print(f"  refused: {failure['reason']}: {failure['message']}")
    assert run.returncode == 1, run.stderr  # partial failure: some sources were refused
    assert control.returncode == 0, control.stderr
    assert run.summary["published"]
    assert run.seconds < RUN_LIMIT_S
    if sys.platform.startswith("linux"):  # VmHWM comes from /proc
        assert run.peak_rss_mb > 0 and control.peak_rss_mb > 0
        assert growth < RSS_GROWTH_LIMIT_MB, (run.peak_rss_mb, control.peak_rss_mb)


def test_every_refused_source_has_a_one_line_reason_and_nothing_else_failed(hostile):
    failures = hostile.run.summary["failures"]
    expected_sources = {hostile.urls[name] for name in EXPECTED_FAILURES}
    assert {f["source"] for f in failures} == expected_sources, failures
    for name, reasons in EXPECTED_FAILURES.items():
        failure = hostile.failure(name)
        assert failure is not None and failure["reason"] in reasons, (name, failure)
        message = failure["message"]
        assert message.strip() and "\n" not in message and len(message) < 500
        source = hostile.urls[name]
        assert urlsplit(source).path in message, (name, message)


def test_good_sources_of_the_same_run_are_ingested(hostile, live):
    articles = live(hostile.data).articles()
    assert {GOOD_PAGE_URL, GOOD_MD_URL} <= set(articles)
    assert "Brindlemoor" in articles[GOOD_PAGE_URL]["text"]


def test_articles_already_indexed_keep_their_text_and_the_snapshot_verifies(hostile, live):
    view = live(hostile.data)
    now = {url: row["text"] for url, row in view.articles().items()}
    assert {url: now.get(url) for url in hostile.before} == hostile.before
    verify(view.path)


# --------------------------------------------------------------------------- each hostile input

def test_script_and_style_content_never_reaches_article_text(hostile, live):
    articles = live(hostile.data).articles()
    page = articles[f"{HOST}/script-style"]["text"]
    item = articles[f"{HOST}/tamsin"]["text"]
    for text in (page, item):
        assert not [m for m in HIDDEN if m in text], text
    assert "Larchmont" in page and "Tamsin" in item
    # Text *about* a script tag is article text, kept as the page showed it.
    assert "the filing quoted <script>alert(1)</script> as text." in page


def test_markdown_and_mention_syntax_is_stored_verbatim(hostile, live):
    articles = live(hostile.data).articles()
    for url in (f"{HOST}/markup", f"{HOST}/tamsin"):
        text = articles[url]["text"]
        assert [m for m in MARKUP if m not in text] == [], (url, text)
    # A Markdown source is rendered as Markdown (the fence becomes its code), but Discord's
    # mention syntax is not Markdown and stays as written.
    text = articles[f"{HOST}/wexcombe"]["text"]
    for kept in ("@everyone", "<@&123456789012345678>", "||spoiler||", "print('pwned')"):
        assert kept in text, (kept, text)


def test_invalid_utf8_is_replaced_byte_by_byte_and_the_valid_text_survives(hostile, live):
    # One bad byte must not turn the rest of a UTF-8 article into mojibake ("cafÃ©", "CafĂŠ").
    articles = live(hostile.data).articles()
    for url in (f"{HOST}/bad-utf8-page", f"{HOST}/pellbrook", f"{HOST}/quenby"):
        text = articles[url]["text"]
        assert ACCENTED in text, (url, text[:200])
        assert "grey \ufffd\ufffd Tuesday \ufffd" in text, (url, text[:300])
        text.encode("utf-8")  # no lone surrogates


@pytest.mark.parametrize("declaration", ['<?xml version="1.0" encoding="windows-1252"?>',
                                         '<?xml version="1.0" encoding="utf-8"?>', ""],
                         ids=["declared", "declared wrongly as UTF-8", "undeclared"])
def test_feed_in_a_legacy_encoding_still_keeps_its_accented_text(writers, declaration):
    # The other side of the repair above: text that is not UTF-8 at all is still decoded
    # by feedparser's own rules, not turned into replacement characters.
    xml = writers.rss([{"title": "Quenby ruling", "link": f"{HOST}/quenby",
                        "date": "Mon, 03 Mar 2025 10:00:00 GMT",
                        "body": "\n".join([ACCENTED, *writers.body("Quenby", 8).split("\n")])}])
    raw = (declaration + xml.split("?>", 1)[1]).encode("cp1252")
    feed = parse_feed(raw, source="quenby.xml")
    text = feed_item_document(feed.items[0], feed, source="quenby.xml").text
    assert text.split("\n")[0] == ACCENTED


def test_fifty_megabyte_pages_are_abandoned_long_before_their_end(hostile):
    for path in ("/hostile/huge.html", "/hostile/huge-announced.html"):
        # Socket buffers may hold a few MB more than the limit; never the whole page.
        assert hostile.served.bytes_sent.get(path, 0) < FIFTY_MB / 2, path


def test_one_byte_a_second_is_cut_off_by_the_total_timeout(hostile):
    failure = hostile.failure("one byte a second")
    assert failure is not None and failure["reason"] == "timeout", failure
    # Cut off while the server was still trickling (a byte a second for TRICKLE_BYTES
    # seconds), not read to the end: the timeout bounds the whole response, not each read,
    # however slow this machine is.
    assert hostile.served.bytes_sent["/hostile/trickle.html"] < TRICKLE_BYTES


def test_feed_of_10000_items_gives_at_most_max_items_per_feed_articles(hostile, live):
    flood = [u for u in live(hostile.data).articles() if u.startswith("https://flood.example.org/")]
    assert 0 < len(flood) <= MAX_ITEMS
    assert set(flood) == {f"https://flood.example.org/{i}" for i in range(MAX_ITEMS)}


def test_duplicate_guids_give_one_article_per_distinct_link(hostile, live):
    articles = live(hostile.data).articles()
    got = {u for u in articles if u.startswith("https://dupes.example.org/")}
    assert got == hostile.dupes
    # A link that came twice keeps the first item's text.
    assert "Elderby" in articles["https://dupes.example.org/e"]["text"]
    assert hostile.failure("duplicate GUIDs") is None


@pytest.mark.asyncio
async def test_search_over_hostile_articles_quotes_them_exactly(hostile, encoder, settings_for,
                                                                live):
    texts = {int(r["id"]): r["text"] for r in live(hostile.data).query("SELECT id, text FROM articles")}
    index = await DocketIndex(settings_for(hostile.data), encoder).open()
    try:
        questions = ["What happened in the Quillfeather dispute?", "Larchmont case briefs",
                     "What did the Tamsin plaintiffs argue?", "Ormsby ruling",
                     "@everyone <@&123456789012345678> [the ruling](http://evil.example/phish)",
                     "What did Japan ask OpenAI about Sora 2?"]
        seen = set()
        for question in questions:
            response = await index.search(question, min_relevance=-1.0)
            assert response.error is None and response.results, question
            for result in response.results:
                text = texts[result.article_id]
                # The article's own text: one span, or two joined by " … ".
                assert result.snippet_start == result.parts[0][0]
                assert result.snippet == " … ".join(text[a:b] for a, b in result.parts)
                assert not [m for m in HIDDEN if m in result.snippet]
                seen.add(result.url)
        assert {f"{HOST}/markup", f"{HOST}/script-style", JAPAN_URL} <= seen
    finally:
        await index.close()


# --------------------------------------------------------------------------- bounds, one at a time

@pytest.mark.asyncio
@pytest.mark.parametrize("in_headers", [False, True], ids=["body", "status line and headers"])
async def test_server_sending_one_byte_a_second_is_cut_off_at_the_timeout(
        tmp_path, net_settings, http_server, in_headers):
    served = Served()
    url = _trickle_route(http_server, served, "/trickle", in_headers=in_headers)
    settings = net_settings(tmp_path / "data", timeout_s=2.0)
    started = time.monotonic()
    async with Fetcher(settings.fetch) as fetcher:
        with pytest.raises(SourceError) as caught:
            await fetcher.get(url)
    elapsed = time.monotonic() - started
    sent_by_then = served.bytes_sent.get("/trickle", 0)
    assert caught.value.reason == "timeout"
    # Not before the timeout...
    assert elapsed >= settings.fetch.timeout_s
    # ...and cut off while the server was still trickling (a byte a second for 120 s): the
    # timeout bounds the whole response, not each read, however slow this machine is.
    assert sent_by_then < TRICKLE_BYTES


@pytest.mark.asyncio
async def test_local_feed_of_10000_items_is_read_in_bounded_time(tmp_path, settings_for):
    path = tmp_path / "flood.xml"
    path.write_bytes(_flood_feed(FLOOD_ITEMS))
    settings = settings_for(tmp_path / "data")
    settings = settings.replace(fetch=dataclasses.replace(settings.fetch,
                                                          max_items_per_feed=MAX_ITEMS))
    started = time.monotonic()
    collected = await collect([str(path)], settings, {}, set())
    assert time.monotonic() - started < 30
    assert collected.failures == []
    assert set(collected.documents) == {canonical_url(f"https://flood.example.org/{i}")
                                        for i in range(MAX_ITEMS)}


def test_hostile_run_published_one_snapshot(hostile, live):
    # The run published a new snapshot beside the old one; the old one is still whole.
    names = [n for n in live(hostile.data).snapshot_names() if not n.startswith(".")]
    assert len(names) == 2
    for name in names:
        verify(snapshot.snapshots_dir(hostile.data) / name)

