"""What `python -m index ingest` tells its user: one line for each source it could not use
(the source named once, the reason in words), a run where every source failed is no partial
failure, and the summary says what was skipped and why."""

from __future__ import annotations

import pytest

from index.ingest import ingest

QUILL_URL = "https://news.example.com/2025/03/quillport"


def _failure_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("failed: ")]


def test_a_url_without_a_host_is_refused_for_that_reason(tmp_path, run_cli):
    done = run_cli(tmp_path / "data", "ingest", "http://")
    assert _failure_lines(done.stderr) == ["failed: http://: the URL has no host name"], done.stderr
    assert "not an http(s) URL" not in done.stderr


def test_an_ingest_where_every_source_failed_exits_3_and_publishes_nothing(tmp_path, run_cli):
    data = tmp_path / "data"
    done = run_cli(data, "ingest", "/nonexistent/path")
    assert done.returncode == 3, (done.stdout, done.stderr)
    assert _failure_lines(done.stderr) == ["failed: /nonexistent/path: no such file or directory"]
    assert "0 new, 0 updated, 0 unchanged, 0 removed, 1 failed" in done.stdout
    assert not (data / "CURRENT").exists()


def test_an_ingest_where_some_sources_failed_still_exits_1(tmp_path, run_cli, writers):
    good = writers.markdown(tmp_path / "src" / "quill.md", title="Quillport case", url=QUILL_URL,
                            body=writers.body("Quillport", 10))
    done = run_cli(tmp_path / "data", "ingest", str(good), str(tmp_path / "gone.md"))
    assert done.returncode == 1, done.stderr
    assert "1 new, 0 updated, 0 unchanged, 0 removed, 1 failed" in done.stdout


def test_each_failure_is_one_line_naming_its_source_once(tmp_path, run_cli):
    missing = tmp_path / "nowhere" / "gone.html"
    binary = tmp_path / "photo.html"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 64)
    unsupported = tmp_path / "archive.bin"
    unsupported.write_text("just some words that are neither HTML nor a feed", encoding="utf-8")
    done = run_cli(tmp_path / "data", "ingest", str(missing), str(binary), str(unsupported))
    assert done.returncode == 3, done.stderr
    for source, words in ((missing, "no such file or directory"), (binary, "binary data"),
                          (unsupported, "not HTML, Markdown, plain text or a feed")):
        mentions = [line for line in done.stderr.splitlines() if source.name in line]
        assert len(mentions) == 1, done.stderr  # not logged a second time
        [line] = mentions
        assert line.startswith("failed: ") and line.count(source.name) == 1, line
        assert words in line, line
        assert "missing:" not in line and "binary:" not in line and "unsupported:" not in line


def test_a_redirect_loop_is_one_line_in_words(tmp_path, run_cli, http_server):
    http_server.redirect("/loop-b", http_server.url("/loop-a"))
    url = http_server.redirect("/loop-a", "/loop-b")
    env = {"DOCKET__FETCH__ALLOW_PRIVATE": "127.0.0.1", "DOCKET__FETCH__PER_HOST_DELAY_S": "0"}
    done = run_cli(tmp_path / "data", "ingest", url, extra_env=env)
    assert done.returncode == 3, done.stderr
    [line] = [line for line in done.stderr.splitlines() if "/loop-" in line]
    assert line.startswith(f"failed: {url}: ") and line.count("/loop-a") == 1, line
    assert "redirect" in line and "redirect_loop" not in line


def _summary_only_feed(writers, tmp_path, n: int):
    items = [{"title": f"Quillport story {i}", "link": f"https://wire.example.org/q{i}",
              "date": "Mon, 03 Mar 2025 10:00:00 GMT", "body": writers.body(f"Quillport {i}", 8)}
             for i in range(n)]
    feed = tmp_path / "src" / "wire.rss"
    feed.parent.mkdir(parents=True, exist_ok=True)
    feed.write_text(writers.rss(items, full_text=False), encoding="utf-8")
    return feed


def test_a_local_feed_of_summaries_says_why_nothing_was_indexed(tmp_path, run_cli, writers):
    feed = _summary_only_feed(writers, tmp_path, 3)
    done = run_cli(tmp_path / "data", "ingest", str(feed))
    assert done.returncode == 0, done.stderr
    assert "0 new" in done.stdout
    assert ("3 feed items have only a summary; their pages are fetched only when the feed "
            "is a URL") in done.stdout
    # Said again on the next run: nothing of it was indexed the first time either.
    again = run_cli(tmp_path / "data", "ingest", str(feed))
    assert "3 feed items have only a summary" in again.stdout, again.stdout


@pytest.mark.asyncio
async def test_a_single_summary_only_item_is_counted_in_the_singular(tmp_path, encoder,
                                                                    settings_for, writers):
    feed = _summary_only_feed(writers, tmp_path, 1)
    summary = await ingest([str(feed)], settings_for(tmp_path / "data"), encoder)
    assert summary.skipped == {"summary_only": 1}
    assert ("1 feed item has only a summary; its page is fetched only when the feed is a URL"
            in summary.line())
    assert summary.exit_code == 0


@pytest.mark.asyncio
async def test_summary_only_items_whose_pages_are_indexed_are_not_reported_as_skipped(
        tmp_path, encoder, settings_for, writers):
    feed = _summary_only_feed(writers, tmp_path, 1)
    page = tmp_path / "src" / "page.html"
    page.write_text(writers.html(title="Quillport story 0", canonical="https://wire.example.org/q0",
                                 paragraphs=writers.body("Quillport 0", 8).split("\n")),
                    encoding="utf-8")
    summary = await ingest([str(feed), str(page)], settings_for(tmp_path / "data"), encoder)
    assert (summary.new, summary.skipped) == (1, {})
    assert "only a summary" not in summary.line()
