"""`python -m index watch|sources|feeds`: keep the index fresh from its feeds, list
them with their health, add, remove or re-enable one."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Callable

from .cli_common import EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, make_encoder, seconds, whole
from .settings import Settings


def add_commands(command: Callable[[str, str], argparse.ArgumentParser]) -> None:
    p = command("watch", "poll the configured feeds on their intervals")
    p.add_argument("--once", action="store_true", help="poll every enabled feed once and exit")
    p.add_argument("--tick", type=seconds, default=10.0, metavar="SECONDS",
                   help="seconds between checks for due feeds (default: 10)")

    p = command("sources", "feeds and their health")
    p.add_argument("--json", action="store_true", help="print the feeds as JSON")

    p = command("feeds", "add, remove or re-enable a feed")
    p.add_argument("action", choices=["add", "remove", "enable"], help="what to do with the feed")
    p.add_argument("url", help="the feed's URL")
    p.add_argument("--interval", type=whole(1), default=None, metavar="MINUTES",
                   help="minutes between polls (default: fetch.default_interval_s)")
    p.add_argument("--keywords", default="", help="comma-separated; items must mention one")


async def cmd_watch(args: argparse.Namespace, settings: Settings) -> int:
    import signal

    from .feeds.state import FeedState
    from .feeds.watch import FeedPoller

    state = await FeedState.open(settings.data_dir)
    try:
        poller = FeedPoller(settings, state, lambda: make_encoder(settings))
        count = await poller.sync_config()
        if not await state.feeds():
            print("no feeds: add some to config/feeds.toml or with `python -m index feeds add URL`",
                  file=sys.stderr)
            return EXIT_USAGE
        if args.once:
            report = await poller.poll(force=True)
            print(report.line())
            return EXIT_PARTIAL if any(f.status not in {"ok", "not_modified", "unchanged"}
                                       for f in report.feeds) else EXIT_OK
        logging.getLogger("index").setLevel(logging.INFO)
        print(f"watching {len(await state.feeds())} feeds ({count} from config); Ctrl-C stops",
              file=sys.stderr)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await poller.run(stop, tick_s=args.tick)
    finally:
        await state.close()
    return EXIT_OK


async def cmd_sources(args: argparse.Namespace, settings: Settings) -> int:
    from .feeds.config import feed_listing

    feeds = await feed_listing(settings)
    if args.json:
        print(json.dumps([f.to_json() for f in feeds]))
        return EXIT_OK
    if not feeds:
        print("no feeds: add some to config/feeds.toml or with `python -m index feeds add URL`")
    for f in feeds:
        details = [f.title or "-", f.health_text()]
        if f.health == "disabled":
            details.append("`python -m index feeds enable URL` turns it back on")
        if f.last_fetch is None:
            details.append(f"every {max(1, f.interval_s // 60)} min")
        else:
            details += [f"last fetch {f.last_fetch}", f"last new item {f.last_new_item or 'never'}",
                        f"{f.articles} article{'s' if f.articles != 1 else ''}"]
        print(f"{f.url}\n   " + " · ".join(details))
    return EXIT_OK


async def cmd_feeds(args: argparse.Namespace, settings: Settings) -> int:
    from .feeds.config import configured_feeds, feeds_file, sync_config_feeds
    from .feeds.state import FeedState

    configured = configured_feeds(settings)
    if args.action == "remove" and args.url in {f.url for f in configured}:
        print(f"{args.url} is listed in {feeds_file()}: remove it there (the next poll would "
              "add it back)", file=sys.stderr)
        return EXIT_USAGE
    state = await FeedState.open(settings.data_dir)
    try:
        await sync_config_feeds(state, settings, configured)  # configured feeds are feeds
        if args.action == "add":
            if not args.url.startswith(("http://", "https://")):
                print("a feed URL starts with http:// or https://", file=sys.stderr)
                return EXIT_USAGE
            interval = args.interval * 60 if args.interval else settings.fetch.default_interval_s
            keywords = [k.strip() for k in args.keywords.split(",") if k.strip()]
            await state.upsert_feed(args.url, interval_s=interval, keywords=keywords, origin="cli")
            print(f"added {args.url}")
        elif args.action == "remove":
            print("removed" if await state.remove_feed(args.url) else "no such feed")
        else:
            print("enabled" if await state.set_enabled(args.url, True) else "no such feed")
    finally:
        await state.close()
    return EXIT_OK
