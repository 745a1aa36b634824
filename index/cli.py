"""`python -m index`: build, query and check the news index, keep it fresh, measure it."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from . import cli_cases, cli_feeds, cli_measure, cli_trends, display
from .cli_common import EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, make_encoder, open_index, whole
from .errors import ConfigError, DocketError, IngestBusy, SnapshotError
from .results import Result, SearchResponse
from .settings import Settings, load_settings

log = logging.getLogger("index")


class _Parser(argparse.ArgumentParser):
    """Usage errors in one line (the full usage is one `--help` away)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (`{self.prog} --help` for usage)\n")


MAX_DAYS = 3650  # the same bound as /latest in Discord and in the terminal session


def build_parser() -> argparse.ArgumentParser:
    # The global options are accepted before the command and after it (`search -v ...`); after
    # it, they are only set when given, so they never hide the ones given before it.
    parser = _Parser(prog="python -m index", description=__doc__,
                     epilog="Exit status: 0 ok, 1 partial failure (some sources failed), "
                            "2 usage or configuration error.")
    common = _Parser(add_help=False)
    for target, default in ((parser, None), (common, argparse.SUPPRESS)):
        target.add_argument("--data-dir", type=Path, default=default, metavar="DIR",
                            help="index directory (default: $DOCKET_DATA_DIR or ./var)")
        target.add_argument("--config", type=Path, default=default, metavar="FILE",
                            help="settings file (default: $DOCKET_CONFIG or config/settings.toml)")
        target.add_argument("-v", "--verbose", action="store_true",
                            default=False if default is None else default, help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, title="commands", metavar="COMMAND")

    def command(name: str, summary: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=summary, description=summary, parents=[common])

    p = command("ingest", "build or refresh the index from sources")
    p.add_argument("sources", nargs="*", help="files, directories, feed or page URLs "
                                              "(default: the configured sources)")
    p.add_argument("--sample", action="store_true", help="ingest the bundled sample corpus")
    p.add_argument("--full", action="store_true", help="rebuild from scratch, re-embedding everything")
    p.add_argument("--prune", action="store_true", help="drop articles whose sources are gone")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")

    p = command("search", "quoted answers to a question")
    p.add_argument("question", help="the question, or - to read one question per line from stdin")
    p.add_argument("-k", type=whole(1), default=None, metavar="N",
                   help="number of results (default: search.results in the settings)")
    p.add_argument("--json", action="store_true",
                   help="one JSON object per question (with -: one line per input line, in order)")

    p = command("latest", "newest stories, newest first")
    p.add_argument("topic", nargs="?", default=None, help="only stories on this topic")
    p.add_argument("--days", type=whole(1, MAX_DAYS), default=None, metavar="N",
                   help=f"only stories of the last N days (1-{MAX_DAYS})")
    p.add_argument("--count", type=whole(1), default=5, metavar="N",
                   help="number of stories (default: 5)")
    p.add_argument("--json", action="store_true", help="print the stories as JSON")

    cli_cases.add_commands(command)
    cli_trends.add_command(command)

    p = command("stats", "index size and freshness")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")

    cli_measure.add_commands(command)
    cli_feeds.add_commands(command)
    cli_measure.add_bench(command)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        try:
            return _run(argv)
        finally:
            sys.stdout.flush()  # a reader that went away shows here, not at interpreter exit
    except BrokenPipeError:
        # `... | head -1`: the reader has what it wanted. Point stdout at /dev/null so that
        # the interpreter's own flush at exit stays quiet too.
        import os

        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
        except (OSError, ValueError):  # stdout is not a file descriptor (embedded use)
            pass
        return EXIT_OK


def _run(argv: list[str] | None) -> int:
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


async def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from .ingest import ingest
    from .sources import sample_dir

    sources = list(args.sources)
    if args.sample:
        sources.append(str(sample_dir()))
    if not sources:
        from .feeds.config import configured_sources

        sources = configured_sources(settings)
    if not sources:
        print("nothing to ingest: give files, directories or URLs, --sample, or configure sources",
              file=sys.stderr)
        return EXIT_USAGE
    bar = _ProgressBar() if not args.json else None
    try:
        summary = await ingest(sources, settings, lambda: make_encoder(settings), full=args.full,
                               prune=args.prune, progress=bar.update if bar else None)
    finally:
        if bar:
            bar.close()
    for failure in summary.failures:  # each message names its source once, in words
        print(f"failed: {failure['message']}", file=sys.stderr)
    if args.json:
        print(json.dumps(summary.to_json()))
    else:
        print(summary.line())
    return summary.exit_code


class _ProgressBar:
    """An ingest's progress on stderr: a bar redrawn in place on a terminal (log lines go
    above it), a progress line at a steady interval when stderr is a log (index.progress)."""

    def __init__(self) -> None:
        from .progress import Progress

        self._progress = Progress(sys.stderr)

    def update(self, stage: str, done: int, total: int) -> None:
        self._progress.update(stage, done, total)

    def close(self) -> None:
        self._progress.close()


async def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    index = await open_index(settings)
    try:
        if args.question != "-":
            response = await index.search(args.question, k=args.k)
            _print_response(response, args.json)
            return EXIT_USAGE if response.error else EXIT_OK
        # One answer per input line, in order, blank lines included (they get an error), so
        # that a tool can pair questions and answers by position. stdin is read on this
        # thread: nothing else runs meanwhile, and Ctrl-C interrupts a waiting read at once.
        for line in sys.stdin:
            question = line.rstrip("\r\n")
            response = await index.search(question, k=args.k)
            if args.json:
                _print_response(response, as_json=True)
            else:  # the question above its answers, a blank line after them
                print(f"Q: {question}\n{format_response(response).rstrip()}\n")
            sys.stdout.flush()
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
    if not response.results:  # a fact-abstention still shows the closest coverage
        return "I found nothing in the news index about that. Try `latest` for the newest stories."
    lines = []
    if response.notice:
        lines.append(f"Note: {display.human_dates(response.notice)}\n")
    for i, r in enumerate(response.results, 1):
        lines.append(format_result(i, r))
    return "\n".join(lines)


def format_result(i: int, r: Result) -> str:
    """One result in three lines: the quote (one line, for grep), its source, its link."""
    quote = display.quoted(" ".join(r.snippet.split()), lead=r.leading_ellipsis,
                           tail=r.trailing_ellipsis)
    out = [f"{i}. {quote}", f"   — {r.title} · {r.outlet} · {display.human_date(r.published)}",
           f"   {r.url}"]
    if r.also_reported_by:
        out.append("   also reported by: " + ", ".join(
            f"{o} ({u})" for o, u in zip(r.also_reported_by_outlets, r.also_reported_by, strict=True)))
    return "\n".join(out) + "\n"


async def cmd_latest(args: argparse.Namespace, settings: Settings) -> int:
    index = await open_index(settings)
    try:
        results = await index.latest(args.topic, days=args.days, count=args.count)
        notice = None if results else await _nothing_new(index, args.topic, args.days)
    finally:
        await index.close()
    if args.json:
        print(json.dumps({"topic": args.topic, "days": args.days, "notice": notice,
                          "results": [r.to_json() for r in results]}, ensure_ascii=False))
    elif notice:  # dates as the results show them; the JSON keeps ISO dates
        print(display.human_dates(notice))
    else:
        for i, r in enumerate(results, 1):
            print(format_result(i, r))
    return EXIT_OK


async def _nothing_new(index: Any, topic: str | None, days: int | None) -> str:
    """What `latest` prints instead of stories: none in the period (and the newest one's date)."""
    scope = f" on “{topic}”" if topic else ""
    window = f" in the last {days} day{'s' if days != 1 else ''}" if days else ""
    newest = await index.latest(topic, count=1) if days else []
    if newest and newest[0].published:
        where = "story on it" if topic else "story in the index"
        return f"No stories{scope}{window}; the newest {where} is from {newest[0].published}."
    return f"Nothing in the news index{scope}{window}."


async def cmd_cases(args: argparse.Namespace, settings: Settings) -> int:
    index = await open_index(settings)
    try:
        book = index.cases
    finally:
        await index.close()
    return cli_cases.run_case(args, book) if args.command == "case" else cli_cases.run_cases(args, book)


async def cmd_trends(args: argparse.Namespace, settings: Settings) -> int:
    index = await open_index(settings)
    try:
        return await cli_trends.run(args, index)
    finally:
        await index.close()


async def cmd_stats(args: argparse.Namespace, settings: Settings) -> int:
    from . import snapshot
    from .loaded import load_snapshot

    path = snapshot.current_path(settings.data_dir)
    manifest = snapshot.read_manifest(path)
    snap = await load_snapshot(path, settings, model=manifest.data["model"],
                               dimension=int(manifest.data["dimension"]), checksums=False)
    try:
        stats = await snap.stats()
        data = {"articles": stats.articles, "passages": stats.passages,
                "stories": stats.stories, "snapshot": stats.snapshot,
                "built_at": stats.built_at, "model": stats.model,
                "vector_index": stats.vector_index,
                "last_ingest": stats.last_ingest, "data_dir": str(settings.data_dir)}
    finally:
        await snap.close()
    if args.json:
        print(json.dumps(data))
    else:
        print(f"snapshot {data['snapshot']} built {data['built_at']}: {data['articles']} articles, "
              f"{data['stories']} stories, {data['passages']} passages ({data['vector_index']} index, "
              f"{data['model']})")
    return EXIT_OK


COMMANDS: dict[str, Callable[[argparse.Namespace, Settings], Any]] = {
    "ingest": cmd_ingest, "search": cmd_search, "latest": cmd_latest, "stats": cmd_stats,
    "verify": cli_measure.cmd_verify, "eval": cli_measure.cmd_eval,
    "calibrate": cli_measure.cmd_calibrate, "bench": cli_measure.cmd_bench,
    "watch": cli_feeds.cmd_watch, "sources": cli_feeds.cmd_sources, "feeds": cli_feeds.cmd_feeds,
    "cases": cmd_cases, "case": cmd_cases, "trends": cmd_trends,
}
