"""`python -m index sources` lists the configured feeds from the start, an `ingest` that
fetched them records their health, and each feed is in one state, worded one way (the bot's
side: tests/bot/test_bot_feed_listing.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from index.feeds.state import STATE_FILE

NET_ENV = {"DOCKET__FETCH__ALLOW_PRIVATE": "127.0.0.1", "DOCKET__FETCH__PER_HOST_DELAY_S": "0"}


def _items(writers: Any, topics: list[str]) -> list[dict[str, str]]:
    return [{"title": f"{t} ruling", "link": f"https://wire.example.org/{t.lower()}",
             "date": "Mon, 03 Nov 2025 10:00:00 GMT", "body": writers.body(t, 8)} for t in topics]


def _feeds_file(tmp_path: Path, entries: list[str]) -> Path:
    path = tmp_path / "feeds.toml"
    path.write_text("\n".join(entries), encoding="utf-8")
    return path


def _blocks(stdout: str) -> dict[str, str]:
    """The `sources` listing as {url: its detail line}."""
    lines = stdout.strip().splitlines()
    return {lines[i]: lines[i + 1].strip() for i in range(0, len(lines) - 1, 2)}


@pytest.fixture
def two_feeds(tmp_path, writers, http_server) -> dict[str, Any]:
    wire = http_server.page("/wire.xml", writers.rss(_items(writers, ["Quillport", "Marrowfield"])),
                            content_type="application/rss+xml")
    gone = http_server.status("/gone.xml", 404)
    feeds = _feeds_file(tmp_path, [
        f'[[feed]]\nurl = "{wire}"\nname = "Test Wire"\ninterval_minutes = 30\n',
        f'[[feed]]\nurl = "{gone}"\nname = "Gone Gazette"\n'])
    return {"wire": wire, "gone": gone, "env": {"DOCKET_FEEDS": str(feeds), **NET_ENV}}


def test_configured_feeds_are_listed_before_anything_fetched_them(tmp_path, run_cli, two_feeds,
                                                                  http_server):
    data = tmp_path / "data"
    shown = run_cli(data, "sources", extra_env=two_feeds["env"])
    assert shown.returncode == 0, shown.stderr
    assert "no feeds" not in shown.stdout
    blocks = _blocks(shown.stdout)
    assert blocks == {two_feeds["wire"]: "Test Wire · never fetched · every 30 min",
                      two_feeds["gone"]: "Gone Gazette · never fetched · every 30 min"}
    as_json = run_cli(data, "sources", "--json", extra_env=two_feeds["env"])
    rows = {f["url"]: f for f in json.loads(as_json.stdout)}
    assert {url: (f["health"], f["title"], f["last_fetch"]) for url, f in rows.items()} == {
        two_feeds["wire"]: ("never fetched", "Test Wire", None),
        two_feeds["gone"]: ("never fetched", "Gone Gazette", None)}
    assert http_server.total == 0 and not (data / STATE_FILE).exists()


def test_an_ingest_of_the_configured_feeds_records_their_health(tmp_path, run_cli, two_feeds,
                                                               http_server, live):
    data = tmp_path / "data"
    done = run_cli(data, "ingest", extra_env=two_feeds["env"])
    assert done.returncode == 1, done.stderr  # one of the two feeds failed
    assert len(live(data).articles()) == 2

    blocks = _blocks(run_cli(data, "sources", extra_env=two_feeds["env"]).stdout)
    wire, gone = blocks[two_feeds["wire"]], blocks[two_feeds["gone"]]
    assert wire.startswith("Test Wire · ok · last fetch 20") and wire.endswith("· 2 articles"), wire
    assert "never" not in wire.split("last new item")[0]
    assert gone.startswith("Gone Gazette · failing: 1 failure in a row (http_404); backing off"), gone
    for line in blocks.values():  # one state each: never "ok" beside failures
        assert not ("· ok" in line and "in a row" in line), line

    rows = {f["url"]: f for f in json.loads(
        run_cli(data, "sources", "--json", extra_env=two_feeds["env"]).stdout)}
    assert (rows[two_feeds["wire"]]["health"], rows[two_feeds["wire"]]["articles"]) == ("ok", 2)
    assert (rows[two_feeds["gone"]]["health"],
            rows[two_feeds["gone"]]["consecutive_failures"]) == ("failing", 1)

    # The ingest was the feeds' first poll: the watcher finds nothing new to index.
    watched = run_cli(data, "watch", "--once", extra_env=two_feeds["env"])
    assert "0 new or changed items" in watched.stdout, (watched.stdout, watched.stderr)
    assert http_server.hits["/wire.xml"] == 2 and len(live(data).articles()) == 2


def test_an_ingest_of_a_configured_feed_keeps_only_items_with_its_keywords(
        tmp_path, run_cli, writers, http_server, live):
    wire = http_server.page("/wire.xml", writers.rss(_items(writers, ["Quillport", "Marrowfield"])),
                            content_type="application/rss+xml")
    feeds = _feeds_file(tmp_path, [f'[[feed]]\nurl = "{wire}"\nkeywords = ["quillport"]\n'])
    data = tmp_path / "data"
    done = run_cli(data, "ingest", extra_env={"DOCKET_FEEDS": str(feeds), **NET_ENV})
    assert done.returncode == 0, done.stderr
    assert list(live(data).articles()) == ["https://wire.example.org/quillport"]
    assert "1 feed item mentions none of its feed's keywords" in done.stdout


def test_removing_a_configured_feed_points_to_the_feeds_file(tmp_path, run_cli, two_feeds):
    done = run_cli(tmp_path / "data", "feeds", "remove", two_feeds["wire"],
                   extra_env=two_feeds["env"])
    assert done.returncode == 2
    assert "feeds.toml: remove it there" in done.stderr
