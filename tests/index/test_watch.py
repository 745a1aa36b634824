"""The feed poller against a real HTTP server on 127.0.0.1: conditional GET, item identity,
baseline runs, updates, failures with back-off and disabling, the address guard, and the
`python -m index watch|sources|feeds` commands."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from typing import Any

import pytest

from index import snapshot
from index.errors import IngestBusy
from index.feeds.state import FeedState
from index.feeds.watch import FeedPoller
from index.urls import canonical_url

pytestmark = pytest.mark.asyncio(loop_scope="function")

LAST_MODIFIED = "Mon, 03 Nov 2025 10:00:00 GMT"


class FeedRoute:
    """A feed at one path of the test server that answers like a careful publisher: an ETag
    and Last-Modified with each body, 304 to a matching If-None-Match, or a set status."""

    def __init__(self, server: Any, path: str) -> None:
        self.server = server
        self.path = path
        self.body = b""
        self.status = 200
        self.headers: list[dict[str, str]] = []  # the conditional headers of each request
        server.routes[path] = self._serve

    @property
    def url(self) -> str:
        return str(self.server.url(self.path))

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha256(self.body).hexdigest()[:16] + '"'

    def set(self, text: str, status: int = 200) -> None:
        self.body, self.status = text.encode("utf-8"), status

    def _serve(self, h: Any) -> None:
        self.headers.append({k: v for k, v in h.headers.items()
                             if k in ("If-None-Match", "If-Modified-Since", "User-Agent")})
        if self.status != 200:
            h.send_response(self.status)
            h.send_header("Content-Length", "0")
            h.end_headers()
        elif h.headers.get("If-None-Match") == self.etag:
            h.send_response(304)
            h.send_header("ETag", self.etag)
            h.end_headers()
        else:
            h.send_response(200)
            h.send_header("Content-Type", "application/rss+xml")
            h.send_header("Content-Length", str(len(self.body)))
            h.send_header("ETag", self.etag)
            h.send_header("Last-Modified", LAST_MODIFIED)
            h.end_headers()
            h.wfile.write(self.body)


def item(writers: Any, server: Any, slug: str, topic: str, *, date: str = "Mon, 03 Nov 2025 10:00:00 GMT",
         guid: str | None = None, sentences: int = 8) -> dict[str, str]:
    return {"title": f"{topic} ruling", "link": server.url(f"/news/{slug}"), "date": date,
            "body": writers.body(topic, sentences), "guid": guid or server.url(f"/news/{slug}")}


def rss(writers: Any, items: list[dict[str, str]]) -> str:
    """The conftest's RSS writer, with each item's own GUID (it uses the link)."""
    text = writers.rss(items)
    for it in items:
        text = text.replace(f"<guid>{it['link']}</guid>", f"<guid>{it['guid']}</guid>", 1)
    return text


async def open_poller(settings: Any, encoder: Any, *urls: str, interval_s: int = 0,
                      clock: Any = None) -> tuple[FeedState, FeedPoller]:
    state = await FeedState.open(settings.data_dir)
    for url in urls:
        await state.upsert_feed(url, interval_s=interval_s, keywords=[])
    kwargs = {"clock": clock} if clock else {}
    return state, FeedPoller(settings, state, encoder, **kwargs)


async def test_an_unchanged_feed_is_fetched_conditionally_and_not_reingested(
        tmp_path, encoder, net_settings, writers, http_server, live, monkeypatch):
    route = FeedRoute(http_server, "/wire.xml")
    route.set(rss(writers, [item(writers, http_server, "a", "Quillport"),
                            item(writers, http_server, "b", "Marrowfield"),
                            item(writers, http_server, "c", "Weather report")]))
    feeds = tmp_path / "feeds.toml"
    feeds.write_text(f'[[feed]]\nurl = "{route.url}"\ninterval_minutes = 0.0001\n'
                     f'keywords = ["quillport", "MARROWFIELD"]\n', encoding="utf-8")
    monkeypatch.setenv("DOCKET_FEEDS", str(feeds))
    settings = net_settings(tmp_path / "data")
    state = await FeedState.open(settings.data_dir)
    poller = FeedPoller(settings, state, encoder)
    try:
        assert await poller.sync_config() == 1
        first = await poller.poll()
        assert [(f.status, f.new_items) for f in first.feeds] == [("ok", 2)]  # keywords kept 2
        assert first.announced == 0  # the baseline run announces nothing
        built = snapshot.current_name(settings.data_dir)
        assert len(live(settings.data_dir).articles()) == 2

        second = await poller.poll()
        assert [f.status for f in second.feeds] == ["not_modified"] and second.ingest is None
        assert route.headers[0].get("If-None-Match") is None
        assert route.headers[1]["If-None-Match"] == route.etag
        assert route.headers[1]["If-Modified-Since"] == LAST_MODIFIED
        assert route.headers[1]["User-Agent"].startswith("DocketBot/")
        assert snapshot.current_name(settings.data_dir) == built
        row = await state.feed(route.url)
        assert row is not None and row.baseline_done and row.articles == 2
        assert row.last_status == "not_modified" and row.title == "Test Wire"
    finally:
        await state.close()


async def test_only_really_new_items_are_announced_and_changed_ones_as_updates(
        tmp_path, encoder, net_settings, writers, http_server, live):
    route = FeedRoute(http_server, "/wire.xml")
    a = item(writers, http_server, "a", "Quillport")
    b = item(writers, http_server, "b", "Marrowfield")
    route.set(rss(writers, [a, b]))
    settings = net_settings(tmp_path / "data")
    state, poller = await open_poller(settings, encoder, route.url)
    try:
        await poller.poll()
        # The publisher bumps A's date and re-issues B under a new GUID (same content), and
        # publishes C: only C is new.
        c = item(writers, http_server, "c", "Thistlewood")
        bumped = {**a, "date": "Tue, 04 Nov 2025 08:00:00 GMT"}
        reissued = {**b, "guid": "urn:uuid:4e1f2c1a-new-guid"}
        route.set(rss(writers, [c, bumped, reissued]))
        report = await poller.poll()
        assert [(f.status, f.new_items) for f in report.feeds] == [("ok", 1)]
        news = await state.announcements_after(0)
        assert [(n["url"], n["kind"]) for n in news] == [(canonical_url(c["link"]), "new")]
        assert len(live(settings.data_dir).articles()) == 3

        # A's text changes: re-embedded, and announced as an update.
        changed = {**bumped, "body": writers.body("Quillport", 9)}
        route.set(rss(writers, [c, changed, reissued]))
        report = await poller.poll()
        assert report.announced == 1
        latest = (await state.announcements_after(news[-1]["id"]))[0]
        assert (latest["url"], latest["kind"]) == (canonical_url(a["link"]), "updated")
        text = live(settings.data_dir).article(canonical_url(a["link"]))["text"]
        assert text == writers.body("Quillport", 9)
    finally:
        await state.close()


async def test_items_sharing_a_link_with_other_guids_and_content_are_different_items(tmp_path):
    state = await FeedState.open(tmp_path)
    try:
        await state.remember("f", guid="g1", link="https://x.example/live", content_hash="h1",
                             article_url="https://x.example/live")
        await state.commit()
        assert await state.seen("f", guid="g2", link="https://x.example/live",
                                content_hash="h2") == (False, False)
        assert await state.seen("f", guid="g1", link="https://x.example/live",
                                content_hash="h9") == (True, True)  # same GUID: an update
        assert await state.seen("f", guid=None, link=None, content_hash="h1") == (True, False)
    finally:
        await state.close()


@pytest.mark.parametrize(("body", "reason"), [
    ("<html><body><h1>Our newsroom</h1><p>Welcome.</p></body></html>", "not_a_feed"),
    ('<?xml version="1.0"?><rss version="2.0"><channel><title>Cut</title><item><title>Ha',
     "malformed_feed"),
])
async def test_a_broken_feed_fails_with_its_reason(tmp_path, encoder, net_settings, http_server,
                                                   body, reason):
    url = http_server.page("/feed.xml", body, content_type="application/rss+xml")
    settings = net_settings(tmp_path / "data")
    state, poller = await open_poller(settings, encoder, url)
    try:
        report = await poller.poll()
        assert [f.status for f in report.feeds] == [reason]
        row = await state.feed(url)
        assert row is not None and row.last_status == reason and row.consecutive_failures == 1
        assert row.enabled and not row.baseline_done
    finally:
        await state.close()


async def test_a_feed_that_does_not_answer_times_out(tmp_path, encoder, net_settings, http_server):
    url = http_server.slow("/slow.xml", 5)
    settings = net_settings(tmp_path / "data", timeout_s=0.5)
    state, poller = await open_poller(settings, encoder, url)
    try:
        report = await poller.poll()
        assert [f.status for f in report.feeds] == ["timeout"]
    finally:
        await state.close()


async def test_server_errors_back_off_then_disable_the_feed_and_owners_can_reenable_it(
        tmp_path, encoder, net_settings, writers, http_server, run_cli):
    route = FeedRoute(http_server, "/wire.xml")
    route.set("", status=500)
    base = net_settings(tmp_path / "data")
    settings = base.replace(fetch=dataclasses.replace(base.fetch, max_failures=3))
    now = [dt.datetime(2025, 11, 3, 12, 0, tzinfo=dt.UTC)]
    state, poller = await open_poller(settings, encoder, route.url, interval_s=60,
                                      clock=lambda: now[0])
    try:
        statuses = []
        for minutes in (0, 1, 2.5, 5, 9, 20, 60):  # the back-off doubles: 2, then 4 minutes
            now[0] = dt.datetime(2025, 11, 3, 12, 0, tzinfo=dt.UTC) + dt.timedelta(minutes=minutes)
            report = await poller.poll()
            statuses.append([(f.status, f.disabled) for f in report.feeds])
        assert statuses == [[("http_500", False)], [], [("http_500", False)], [],
                            [("http_500", True)], [], []]
        assert len(route.headers) == 3  # disabled: never asked again
    finally:
        await state.close()

    shown = run_cli(settings.data_dir, "sources", "--json")
    assert shown.returncode == 0, shown.stderr
    [feed] = json.loads(shown.stdout)
    assert (feed["url"], feed["enabled"], feed["disabled_reason"], feed["consecutive_failures"]) \
        == (route.url, False, "http_500", 3)
    enabled = run_cli(settings.data_dir, "feeds", "enable", route.url)
    assert enabled.returncode == 0 and enabled.stdout.strip() == "enabled"

    route.set(rss(writers, [item(writers, http_server, "a", "Quillport")]))
    state, poller = await open_poller(settings, encoder, clock=lambda: now[0])
    try:
        report = await poller.poll()
        assert [(f.status, f.new_items) for f in report.feeds] == [("ok", 1)]
        row = await state.feed(route.url)
        assert row is not None and row.enabled and row.consecutive_failures == 0
    finally:
        await state.close()


async def test_loopback_is_refused_unless_allow_listed_and_no_request_is_made(
        tmp_path, encoder, settings_for, http_server):
    url = http_server.page("/feed.xml", "<rss/>", content_type="application/rss+xml")
    base = settings_for(tmp_path / "data")
    settings = base.replace(fetch=dataclasses.replace(base.fetch, per_host_delay_s=0.0))
    assert settings.fetch.allow_private == ()
    state, poller = await open_poller(settings, encoder, url)
    try:
        report = await poller.poll()
        assert [f.status for f in report.feeds] == ["blocked_address"]
        assert http_server.total == 0
    finally:
        await state.close()


async def test_items_survive_an_ingest_that_fails(tmp_path, encoder, net_settings, writers,
                                                  http_server, live, monkeypatch):
    import index.feeds.watch

    route = FeedRoute(http_server, "/wire.xml")
    route.set(rss(writers, [item(writers, http_server, "a", "Quillport")]))
    settings = net_settings(tmp_path / "data")
    state, poller = await open_poller(settings, encoder, route.url)
    real = index.feeds.watch.ingest

    async def busy(*args: Any, **kwargs: Any) -> Any:
        raise IngestBusy("a reindex holds the lock")

    try:
        monkeypatch.setattr(index.feeds.watch, "ingest", busy)
        with pytest.raises(IngestBusy):
            await poller.poll()
        row = await state.feed(route.url)
        assert row is not None and row.etag is None and not row.baseline_done
        monkeypatch.setattr(index.feeds.watch, "ingest", real)
        report = await poller.poll()
        # Fetched whole again (no 304 for items never indexed), and still a baseline run.
        assert "If-None-Match" not in route.headers[1]
        assert [(f.status, f.new_items) for f in report.feeds] == [("ok", 1)]
        assert report.announced == 0 and len(live(settings.data_dir).articles()) == 1
    finally:
        await state.close()


async def test_index_watch_once_indexes_a_local_feed(tmp_path, writers, http_server, run_cli, live):
    route = FeedRoute(http_server, "/wire.xml")
    route.set(rss(writers, [item(writers, http_server, "a", "Quillport"),
                            item(writers, http_server, "b", "Marrowfield")]))
    feeds = tmp_path / "watch-feeds.toml"
    feeds.write_text(f'[[feed]]\nurl = "{route.url}"\n', encoding="utf-8")
    data = tmp_path / "cli-data"
    env = {"DOCKET_FEEDS": str(feeds), "DOCKET__FETCH__ALLOW_PRIVATE": "127.0.0.1",
           "DOCKET__FETCH__PER_HOST_DELAY_S": "0"}
    done = run_cli(data, "watch", "--once", extra_env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ("polled 1 feeds (1 ok, 0 failed), 2 new or changed items, "
                                   "0 announced")
    assert len(live(data).articles()) == 2
    again = run_cli(data, "watch", "--once", extra_env=env)
    assert again.returncode == 0 and "0 new or changed items" in again.stdout
    assert route.headers[1]["If-None-Match"] == route.etag


async def test_two_processes_can_create_the_state_file_at_once(tmp_path):
    """The bot's feed loop and `index watch` (or the bot's two connections) may open a new
    state.sqlite together: neither may fail on the other's half-made schema."""
    import asyncio
    import threading

    async def open_close(data: Any) -> None:
        state = await FeedState.open(data)
        await state.close()

    for attempt in range(10):
        data = tmp_path / f"d{attempt}"
        errors: list[BaseException] = []

        def other(data: Any = data, errors: list[BaseException] = errors) -> None:
            try:
                asyncio.run(open_close(data))
            except BaseException as exc:
                errors.append(exc)

        thread = threading.Thread(target=other)
        thread.start()
        await open_close(data)
        await asyncio.to_thread(thread.join)
        assert errors == []
