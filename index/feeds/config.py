"""Sources listed in config: `[index] sources` in settings.toml and the feeds in feeds.toml.

The feeds of feeds.toml are feeds from the start: `sources` lists them before anything
fetched them, and an ingest that fetches one records its health as a poll would.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ConfigError
from ..settings import Settings, read_toml
from .state import STATE_FILE, FeedRow, FeedState, backoff_s

if TYPE_CHECKING:
    from ..sources import UrlRead

log = logging.getLogger(__name__)

FEEDS_ENV = "DOCKET_FEEDS"


def feeds_file() -> Path | None:
    env = os.environ.get(FEEDS_ENV)
    if env:
        return Path(env)
    local = Path("config/feeds.toml")
    return local if local.is_file() else None


def load_feeds(path: Path | None = None) -> list[dict[str, object]]:
    path = path or feeds_file()
    if path is None:
        return []
    data = read_toml(path)
    feeds = data.get("feed", [])
    if not isinstance(feeds, list):
        raise ConfigError(f"{path}: [[feed]] entries expected")
    for feed in feeds:
        if not isinstance(feed, dict) or not str(feed.get("url", "")).startswith(("http://", "https://")):
            raise ConfigError(f"{path}: every [[feed]] needs an http(s) url")
    return feeds


def configured_sources(settings: Settings) -> list[str]:
    return list(settings.sources) + [str(f["url"]) for f in load_feeds()]


@dataclass(frozen=True)
class ConfiguredFeed:
    url: str
    name: str
    interval_s: int
    keywords: list[str]


def configured_feeds(settings: Settings) -> list[ConfiguredFeed]:
    """The [[feed]] entries of the feeds file, with the default interval filled in."""
    out = []
    for feed in load_feeds():
        minutes = feed.get("interval_minutes")
        interval = (int(float(str(minutes)) * 60) if minutes
                    else settings.fetch.default_interval_s)
        words = feed.get("keywords", [])
        keywords = [str(k) for k in words] if isinstance(words, list) else []
        out.append(ConfiguredFeed(str(feed["url"]), str(feed.get("name") or ""), interval,
                                  keywords))
    return out


async def sync_config_feeds(state: FeedState, settings: Settings,
                            feeds: list[ConfiguredFeed] | None = None) -> int:
    """Add the feeds of the feeds file to the state (existing health is kept)."""
    feeds = configured_feeds(settings) if feeds is None else feeds
    for feed in feeds:
        await state.upsert_feed(feed.url, interval_s=feed.interval_s, keywords=feed.keywords,
                                title=feed.name)
    return len(feeds)


def merge_listing(rows: Iterable[FeedRow], configured: Iterable[ConfiguredFeed]) -> list[FeedRow]:
    """The feeds in the state, plus the configured ones it does not hold yet (never
    fetched); a feed without a title of its own is called by its name in the feeds file."""
    names = {c.url: c.name for c in configured}
    merged = {}
    for row in rows:
        if not row.title and names.get(row.url):
            row = dataclasses.replace(row, title=names[row.url])
        merged[row.url] = row
    for feed in configured:
        if feed.url not in merged:
            merged[feed.url] = FeedRow.unfetched(feed.url, title=feed.name,
                                                 interval_s=feed.interval_s,
                                                 keywords=feed.keywords)
    return [merged[url] for url in sorted(merged)]


async def feed_listing(settings: Settings) -> list[FeedRow]:
    """Every feed with its health: the configured ones from the start, and those added
    with `feeds add` or /feeds. Reading never creates state.sqlite."""
    configured = configured_feeds(settings)
    rows: list[FeedRow] = []
    if (settings.data_dir / STATE_FILE).is_file():
        state = await FeedState.open(settings.data_dir)
        try:
            rows = await state.feeds()
        finally:
            await state.close()
    return merge_listing(rows, configured)


async def feed_keywords(settings: Settings, urls: Iterable[str]) -> dict[str, list[str]]:
    """The words each of these feed URLs' items must mention (feeds without any: absent)."""
    wanted = set(urls)
    if not wanted:
        return {}
    try:
        feeds = await feed_listing(settings)
    except ConfigError as exc:
        log.warning("feed keywords not applied: %s", exc)
        return {}
    return {f.url: f.keywords for f in feeds if f.url in wanted and f.keywords}


def _iso(t: dt.datetime) -> str:
    return t.isoformat(timespec="seconds")


async def record_reads(settings: Settings, reads: Mapping[str, UrlRead],
                       new_urls: set[str]) -> None:
    """Record what an ingest's fetch of each known feed found, as a poll would: the next poll
    is due an interval later (or backs off after a failure), and the validators let it ask
    conditionally. URLs that are no feed (configured or added) are left alone."""
    if not reads:
        return
    try:
        configured = configured_feeds(settings)
    except ConfigError as exc:
        log.warning("feed health not recorded: %s", exc)
        return
    if not (settings.data_dir / STATE_FILE).is_file() and not {c.url for c in configured} & set(reads):
        return
    state = await FeedState.open(settings.data_dir)
    try:
        await sync_config_feeds(state, settings, configured)
        now = dt.datetime.now(dt.UTC)
        cfg = settings.fetch
        for url, read in reads.items():
            feed = await state.feed(url)
            if feed is None or not feed.enabled:
                continue  # a disabled feed stays as its owner left it
            if read.ok:
                new_items = sum(1 for u in read.article_urls if u in new_urls)
                await state.record_success(
                    url, status=read.status, etag=read.etag, last_modified=read.last_modified,
                    body_hash=read.body_hash, title=read.title, new_items=new_items,
                    next_fetch=_iso(now + dt.timedelta(seconds=feed.interval_s)))
            else:
                wait = backoff_s(feed.interval_s, feed.consecutive_failures, cfg.max_backoff_s)
                await state.record_failure(url, reason=read.status,
                                           next_fetch=_iso(now + dt.timedelta(seconds=wait)),
                                           disable_after=cfg.max_failures)
    finally:
        await state.close()
