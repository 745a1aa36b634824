"""`python -m index`: ingest, search, latest, stats, verify, eval, calibrate, bench."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import ConfigError, DocketError, IngestBusy, SnapshotError
from .results import Result, SearchResponse
from .settings import Settings, load_settings

log = logging.getLogger("index")

EXIT_OK, EXIT_PARTIAL, EXIT_USAGE = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m index", description=__doc__)
    parser.add_argument("--data-dir", type=Path, help="index directory (default: $DOCKET_DATA_DIR or ./var)")
    parser.add_argument("--config", type=Path, help="settings file (default: config/settings.toml)")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", help="build or refresh the index from sources")
    p.add_argument("sources", nargs="*", help="files, directories, feed or page URLs")
    p.add_argument("--sample", action="store_true", help="ingest the bundled sample corpus")
    p.add_argument("--full", action="store_true", help="rebuild from scratch, re-embedding everything")
    p.add_argument("--prune", action="store_true", help="drop articles whose sources are gone")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")

    p = sub.add_parser("search", help="search the index")
    p.add_argument("question", help="the question, or - to read one question per line from stdin")
    p.add_argument("-k", type=int, default=None, help="number of results")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("latest", help="newest stories, newest first")
    p.add_argument("topic", nargs="?", default=None)
    p.add_argument("--days", type=int, default=None)
    p.add_argument("--count", type=int, default=5)
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("stats", help="index size and freshness")
    p.add_argument("--json", action="store_true")

    sub.add_parser("verify", help="check the live snapshot deeply; non-zero exit on any problem")

    p = sub.add_parser("eval", help="run a question set (QA.jsonl) against the index")
    p.add_argument("qa", type=Path, nargs="?", help="question set (default: the development set)")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("calibrate", help="derive the abstention threshold from a question set")
    p.add_argument("qa", type=Path, nargs="?")

    p = sub.add_parser("watch", help="poll the configured feeds on their intervals")
    p.add_argument("--once", action="store_true", help="poll every enabled feed once and exit")
    p.add_argument("--tick", type=float, default=10.0, help="seconds between checks for due feeds")

    p = sub.add_parser("sources", help="feeds and their health")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("feeds", help="add, remove or re-enable a feed")
    p.add_argument("action", choices=["add", "remove", "enable"])
    p.add_argument("url")
    p.add_argument("--interval", type=int, default=None, help="minutes between polls")
    p.add_argument("--keywords", default="", help="comma-separated; items must mention one")

    p = sub.add_parser("bench", help="speed and memory benchmark on synthetic corpora")
    p.add_argument("--passages", type=int, nargs="+", default=[10_000, 100_000])
    p.add_argument("--million", action="store_true", help="also 1,000,000 passages")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--json", type=Path, help="write the report here")
    p.add_argument("--compare", type=Path, help="an earlier report to compare with")
    p.add_argument("--backend", choices=["torch", "onnx", "both"], default=None)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        settings = load_settings(config=args.config, data_dir=args.data_dir)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    handler: Callable[[argparse.Namespace, Settings], Any] = COMMANDS[args.command]
    try:
        return int(asyncio.run(handler(args, settings)))
    except IngestBusy as exc:
        print(f"busy: {exc}", file=sys.stderr)
        return EXIT_PARTIAL
    except (ConfigError, SnapshotError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except DocketError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


def make_encoder(settings: Settings) -> Any:
    from .embed import Encoder

    return Encoder(settings.model)


async def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from .ingest import ingest
    from .sources import sample_dir

    sources = list(args.sources)
    if args.sample:
        sources.append(str(sample_dir()))
    if not sources:
        from .feedconfig import configured_sources

        sources = configured_sources(settings)
    if not sources:
        print("nothing to ingest: give files, directories or URLs, --sample, or configure sources",
              file=sys.stderr)
        return EXIT_USAGE
    bar = _ProgressBar() if sys.stderr.isatty() and not args.json else None
    summary = await ingest(sources, settings, lambda: make_encoder(settings), full=args.full,
                           prune=args.prune, progress=bar.update if bar else None)
    if bar:
        bar.close()
    for failure in summary.failures:
        print(f"failed: {failure['source']}: {failure['reason']}: {failure['message']}",
              file=sys.stderr)
    if args.json:
        print(json.dumps(summary.to_json()))
    else:
        print(summary.line())
    return summary.exit_code


class _ProgressBar:
    def __init__(self) -> None:
        from tqdm import tqdm

        self._tqdm = tqdm
        self.bar: Any = None
        self.stage = ""

    def update(self, stage: str, done: int, total: int) -> None:
        if stage != self.stage:
            if self.bar is not None:
                self.bar.close()
            self.stage = stage
            self.bar = self._tqdm(total=total or None, desc=stage, unit="passage" if total else "it",
                                  file=sys.stderr, leave=False)
        if self.bar is not None:
            self.bar.n = done
            self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


async def _open_index(settings: Settings) -> Any:
    from .service import DocketIndex

    return await DocketIndex(settings, make_encoder(settings)).open()


async def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    index = await _open_index(settings)
    try:
        if args.question == "-":
            for line in sys.stdin:
                if not line.strip():
                    continue
                response = await index.search(line.rstrip("\n"), k=args.k)
                _print_response(response, args.json)
                sys.stdout.flush()
        else:
            response = await index.search(args.question, k=args.k)
            _print_response(response, args.json)
            if response.error:
                return EXIT_USAGE
    finally:
        await index.close()
    return EXIT_OK


def _print_response(response: SearchResponse, as_json: bool) -> None:
    if as_json:
        print(json.dumps(response.to_json(), ensure_ascii=False))
        return
    print(format_response(response))


def format_response(response: SearchResponse) -> str:
    if response.error:
        return response.error
    if response.abstained:
        return "I found nothing in the news index about that. Try `latest` for the newest stories."
    lines = []
    if response.notice:
        lines.append(f"Note: {response.notice}\n")
    for i, r in enumerate(response.results, 1):
        lines.append(format_result(i, r))
    return "\n".join(lines)


def format_result(i: int, r: Result) -> str:
    quote = ("…" if r.leading_ellipsis else "") + r.snippet + ("…" if r.trailing_ellipsis else "")
    out = [f"{i}. “{quote}”", f"   — {r.title} · {r.outlet} · {r.published or 'undated'}", f"   {r.url}"]
    if r.also_reported_by:
        out.append("   also reported by: " + ", ".join(
            f"{o} ({u})" for o, u in zip(r.also_reported_by_outlets, r.also_reported_by, strict=True)))
    return "\n".join(out) + "\n"


async def cmd_latest(args: argparse.Namespace, settings: Settings) -> int:
    index = await _open_index(settings)
    try:
        results = await index.latest(args.topic, days=args.days, count=args.count)
    finally:
        await index.close()
    if args.json:
        print(json.dumps({"topic": args.topic, "days": args.days,
                          "results": [r.to_json() for r in results]}, ensure_ascii=False))
    elif not results:
        print("No stories in that period.")
    else:
        for i, r in enumerate(results, 1):
            print(format_result(i, r))
    return EXIT_OK


async def cmd_stats(args: argparse.Namespace, settings: Settings) -> int:
    from . import snapshot
    from .service import load_snapshot

    path = snapshot.current_path(settings.data_dir)
    manifest = snapshot.read_manifest(path)
    snap = await load_snapshot(path, settings, model=manifest.data["model"],
                               dimension=int(manifest.data["dimension"]), checksums=False)
    try:
        counts = await snap.store.counts()
        data = {"articles": counts["articles"], "passages": counts["passages"],
                "stories": counts["stories"], "snapshot": snap.name,
                "built_at": snap.manifest.get("built_at"), "model": snap.manifest.get("model"),
                "vector_index": snap.manifest.get("vector_index"),
                "last_ingest": snap.manifest.get("last_ingest"), "data_dir": str(settings.data_dir)}
    finally:
        await snap.close()
    if args.json:
        print(json.dumps(data))
    else:
        print(f"snapshot {data['snapshot']} built {data['built_at']}: {data['articles']} articles, "
              f"{data['stories']} stories, {data['passages']} passages ({data['vector_index']} index, "
              f"{data['model']})")
    return EXIT_OK


async def cmd_verify(args: argparse.Namespace, settings: Settings) -> int:
    from . import snapshot
    from .verify import verify

    path = snapshot.current_path(settings.data_dir)
    try:
        result = await asyncio.to_thread(verify, path)
    except SnapshotError as exc:
        print(f"verify failed: {exc}", file=sys.stderr)
        return EXIT_PARTIAL
    print(f"ok: snapshot {result['snapshot']}: {result['articles']} articles, "
          f"{result['passages']} passages")
    return EXIT_OK


async def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from .evaluate import default_qa_path, evaluate, format_report, load_qa

    qa = load_qa(args.qa or default_qa_path())
    index = await _open_index(settings)
    try:
        report = await evaluate(index, qa)
    finally:
        await index.close()
    print(json.dumps(report) if args.json else format_report(report))
    return EXIT_OK


async def cmd_calibrate(args: argparse.Namespace, settings: Settings) -> int:
    from .evaluate import calibrate, default_qa_path, load_qa

    qa = load_qa(args.qa or default_qa_path())
    index = await _open_index(settings)
    try:
        result = await calibrate(index, qa)
    finally:
        await index.close()
    print(json.dumps(result, indent=2))
    return EXIT_OK


async def cmd_bench(args: argparse.Namespace, settings: Settings) -> int:
    from .bench import run_bench

    return await run_bench(args, settings)


async def cmd_watch(args: argparse.Namespace, settings: Settings) -> int:
    import signal

    from .feedstate import FeedState
    from .watch import FeedPoller

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
    from .feedstate import FeedState

    state = await FeedState.open(settings.data_dir)
    try:
        feeds = await state.feeds()
    finally:
        await state.close()
    if args.json:
        print(json.dumps([f.to_json() for f in feeds]))
        return EXIT_OK
    if not feeds:
        print("no feeds yet (config/feeds.toml, `python -m index feeds add URL`)")
    for f in feeds:
        health = "ok" if f.enabled else f"DISABLED ({f.disabled_reason})"
        print(f"{f.url}\n   {f.title or '-'} · {health} · last fetch {f.last_fetch or 'never'} "
              f"({f.last_status or '-'}) · last new item {f.last_new_item or 'never'} · "
              f"{f.consecutive_failures} failures in a row · {f.articles} articles")
    return EXIT_OK


async def cmd_feeds(args: argparse.Namespace, settings: Settings) -> int:
    from .feedstate import FeedState

    state = await FeedState.open(settings.data_dir)
    try:
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


COMMANDS: dict[str, Callable[[argparse.Namespace, Settings], Any]] = {
    "ingest": cmd_ingest, "search": cmd_search, "latest": cmd_latest, "stats": cmd_stats,
    "verify": cmd_verify, "eval": cmd_eval, "calibrate": cmd_calibrate, "bench": cmd_bench,
    "watch": cmd_watch, "sources": cmd_sources, "feeds": cmd_feeds,
}
