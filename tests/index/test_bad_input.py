"""Bad input: each bad source gets a one-line reason, the rest of the run goes on, nothing already
indexed is lost, and the exit code says partial failure."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from index.errors import SourceError
from index.fetch import Fetcher
from index.ingest import IngestSummary, ingest
from index.verify import verify

GOOD_URL = "https://gazette.example.net/good-news"
TIMEOUT_S = 1.0
MAX_BYTES = 1_000_000
FIFTY_MB = 50 * 1024 * 1024


@dataclass
class Bad:
    source: str
    reason: str
    marker: str  # a piece of the source that the one-line message must name


def _missing(root: Path, server) -> Bad:
    return Bad(str(root / "nowhere" / "gone.html"), "missing", "gone.html")


def _unreadable_permissions(root: Path, server) -> Bad:
    if os.geteuid() == 0:
        pytest.skip("root reads files whatever their permissions (see the I/O error case)")
    path = root / "locked.html"
    path.write_text("<html><body><p>secret</p></body></html>")
    path.chmod(0)
    return Bad(str(path), "unreadable", "locked.html")


def _unreadable_io_error(root: Path, server) -> Bad:
    if not sys.platform.startswith("linux"):
        pytest.skip("needs /proc")
    path = root / "mem.html"  # a regular file that cannot be read from offset 0, even by root
    path.symlink_to("/proc/self/mem")
    return Bad(str(path), "unreadable", "mem.html")


def _binary(root: Path, server) -> Bad:
    path = root / "photo.html"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 64)
    return Bad(str(path), "binary", "photo.html")


def _malformed_feed(root: Path, server) -> Bad:
    path = root / "broken.xml"
    path.write_bytes(b'<?xml version="1.0"?><rss version="2.0"><channel><title>Half a feed</title')
    return Bad(str(path), "malformed_feed", "broken.xml")


def _html_without_article(root: Path, server) -> Bad:
    path = root / "menu.html"
    path.write_text("<!DOCTYPE html><html><head><title>Home</title></head><body>"
                    "<nav><a href='/'>Home</a> <a href='/news'>News</a> <a href='/about'>About</a></nav>"
                    "<div class='cookie'>We use cookies. Accept all</div>"
                    "<footer>Copyright 2025</footer></body></html>")
    return Bad(str(path), "no_article", "menu.html")


def _empty_html(root: Path, server) -> Bad:
    path = root / "empty.html"
    path.write_bytes(b"")
    return Bad(str(path), "not_html", "empty.html")


def _markdown_with_broken_front_matter(root: Path, server) -> Bad:
    path = root / "badyaml.md"
    path.write_text("---\ntitle: [never closed\n---\n\n" + "A sentence about nothing. " * 30)
    return Bad(str(path), "bad_front_matter", "badyaml.md")


def _timeout(root: Path, server) -> Bad:
    return Bad(server.slow("/slow.xml", 60), "timeout", "/slow.xml")


def _nothing_listening(root: Path, server) -> Bad:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return Bad(f"http://127.0.0.1:{port}/feed.xml", "connection", f":{port}/feed.xml")


def _http_404(root: Path, server) -> Bad:
    return Bad(server.status("/gone.xml", 404), "http_404", "/gone.xml")


def _http_500(root: Path, server) -> Bad:
    return Bad(server.status("/broken.xml", 500), "http_500", "/broken.xml")


def _fifty_megabytes_streamed(root: Path, server) -> Bad:
    return Bad(server.flood("/huge.xml", FIFTY_MB, declare_length=False), "too_large", "/huge.xml")


def _fifty_megabytes_announced(root: Path, server) -> Bad:
    return Bad(server.flood("/huge-declared.xml", FIFTY_MB, declare_length=True), "too_large",
               "/huge-declared.xml")


def _redirect_loop(root: Path, server) -> Bad:
    server.redirect("/loop-b", server.url("/loop-a"))
    return Bad(server.redirect("/loop-a", "/loop-b"), "redirect_loop", "/loop-a")


def _endless_redirects(root: Path, server) -> Bad:
    def next_hop(handler) -> str:
        n = int(parse_qs(urlsplit(handler.path).query).get("n", ["0"])[0])
        return f"/hop?n={n + 1}"

    return Bad(server.redirect("/hop", next_hop), "too_many_redirects", "/hop")


CASES: dict[str, Callable[[Path, object], Bad]] = {
    "missing path": _missing,
    "unreadable file (permissions)": _unreadable_permissions,
    "unreadable file (I/O error)": _unreadable_io_error,
    "binary file": _binary,
    "malformed XML feed": _malformed_feed,
    "HTML with no article": _html_without_article,
    "empty HTML file": _empty_html,
    "Markdown with unreadable front matter": _markdown_with_broken_front_matter,
    "feed URL that times out": _timeout,
    "feed URL with nothing listening": _nothing_listening,
    "feed URL answering 404": _http_404,
    "feed URL answering 500": _http_500,
    "feed URL streaming 50 MB": _fifty_megabytes_streamed,
    "feed URL announcing 50 MB": _fifty_megabytes_announced,
    "redirect loop": _redirect_loop,
    "endless redirects": _endless_redirects,
}


@dataclass
class Outcome:
    bad: Bad
    summary: IngestSummary
    data_dir: Path
    before: dict[str, str]  # url -> text, as indexed before the run


@pytest.fixture(scope="module", params=list(CASES))
def outcome(request, small_base, encoder, tmp_path_factory, module_http_server, net_settings,
            writers, live) -> Outcome:
    root = tmp_path_factory.mktemp("bad-input")
    shutil.copytree(small_base.parent, root / "base")
    data_dir = root / "base" / "data"
    bad = CASES[request.param](root, module_http_server)
    good = writers.markdown(root / "good" / "good.md", title="Good news", url=GOOD_URL,
                            body=writers.body("Brindlemoor", 9))
    before = {url: row["text"] for url, row in live(data_dir).articles().items()}
    settings = net_settings(data_dir, timeout_s=TIMEOUT_S, max_bytes=MAX_BYTES)
    summary = asyncio.run(ingest([bad.source, str(good)], settings, encoder))
    return Outcome(bad, summary, data_dir, before)


def test_bad_source_gets_a_one_line_reason(outcome):
    failures = outcome.summary.failures
    assert [f["reason"] for f in failures] == [outcome.bad.reason], failures
    message = failures[0]["message"]
    assert message.strip() and "\n" not in message
    assert outcome.bad.marker in message


def test_bad_source_does_not_stop_the_good_ones(outcome, live):
    assert outcome.summary.new == 1
    assert GOOD_URL in live(outcome.data_dir).articles()


def test_bad_source_loses_nothing_already_indexed(outcome, live):
    view = live(outcome.data_dir)
    now = {url: row["text"] for url, row in view.articles().items()}
    assert {url: now.get(url) for url in outcome.before} == outcome.before
    verify(view.path)


def test_bad_source_makes_the_run_a_partial_failure(outcome):
    assert outcome.summary.failed == 1
    assert outcome.summary.exit_code == 1


@pytest.mark.asyncio
async def test_oversized_stream_is_abandoned_long_before_its_end(tmp_path, net_settings,
                                                                 http_server):
    url = http_server.flood("/huge.xml", FIFTY_MB, declare_length=False)
    settings = net_settings(tmp_path / "data", max_bytes=MAX_BYTES)
    async with Fetcher(settings.fetch) as fetcher:
        with pytest.raises(SourceError) as caught:
            await fetcher.get(url)
    assert caught.value.reason == "too_large"
    # The server stops as soon as the client hangs up; socket buffers may hold a few MB.
    http_server.flood_done.wait(5)
    assert http_server.flood_sent["/huge.xml"] < FIFTY_MB / 2


def await_ingest(sources, settings, encoder) -> IngestSummary:
    return asyncio.run(ingest(sources, settings, encoder))


def test_bad_sources_alone_leave_the_index_untouched(base_copy, encoder, net_settings, live,
                                                     tmp_path, http_server):
    before = live(base_copy).name
    bads = [_missing(tmp_path, http_server), _binary(tmp_path, http_server),
            _http_500(tmp_path, http_server)]
    summary = await_ingest([b.source for b in bads], net_settings(base_copy), encoder)
    assert summary.failed == 3 and summary.exit_code == 3  # every source failed: not partial
    assert live(base_copy).name == before
    assert len(live(base_copy).articles()) == 3


@pytest.mark.parametrize("raw", [
    b'<?xml version="1.0"?><rss version="2.0"><channel>\x01<<<item>>><title>Half a feed</title',
    b'<?xml version="1.0"?>\n<rss version="2.0"><channel><title>Broken</title>'
    b"<item><title>One</title></channel></rss>",
], ids=["garbage", "mismatched tags"])
def test_malformed_feed_that_still_parses_partly_is_reported(tmp_path, encoder, settings_for, raw):
    path = tmp_path / "broken.xml"
    path.write_bytes(raw)
    summary = await_ingest([str(path)], settings_for(tmp_path / "data"), encoder)
    assert [f["reason"] for f in summary.failures] == ["malformed_feed"]


def test_cli_reports_every_bad_source_on_its_own_line_and_exits_1(
        base_copy, run_cli, tmp_path, http_server, writers, live):
    bads = []
    for name, make in CASES.items():
        if name == "unreadable file (permissions)" and os.geteuid() == 0:
            continue
        bads.append(make(tmp_path, http_server))
    good = writers.markdown(tmp_path / "good" / "good.md", title="Good news", url=GOOD_URL,
                            body=writers.body("Brindlemoor", 9))
    before = set(live(base_copy).articles())
    env = {"DOCKET__FETCH__ALLOW_PRIVATE": "127.0.0.1", "DOCKET__FETCH__PER_HOST_DELAY_S": "0",
           "DOCKET__FETCH__TIMEOUT_S": str(TIMEOUT_S), "DOCKET__FETCH__MAX_BYTES": str(MAX_BYTES)}
    done = run_cli(base_copy, "ingest", *[b.source for b in bads], str(good), extra_env=env)
    assert done.returncode == 1, done.stderr
    failed_lines = [line for line in done.stderr.splitlines() if line.startswith("failed: ")]
    assert len(failed_lines) == len(bads), done.stderr
    for bad in bads:  # the source named once, the reason in words (not its code)
        assert any(bad.marker in line and line.count(bad.marker) == 1
                   and f": {bad.reason}:" not in line for line in failed_lines), (bad, failed_lines)
    assert f"1 new, 0 updated, 0 unchanged, 0 removed, {len(bads)} failed" in done.stdout
    assert before | {GOOD_URL} == set(live(base_copy).articles())
