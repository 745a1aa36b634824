"""`python -m bot` without a token: the same commands in a terminal, one line at a time.

Reads stdin line by line (a pipe works as well as a keyboard), runs each command
through `DocketService` and prints the text forms of the embeds. On the first run,
when the data dir holds no index, it builds one from the bundled sample corpus.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import shlex
import sys
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TextIO

from index import (
    DEFAULT_WEEKS,
    DocketError,
    Progress,
    case_not_found_text,
    case_timeline_text,
    cases_text,
    check_weeks,
    current_snapshot_name,
    run_ingest,
    sample_dir,
    trend_empty_text,
    write_trend_png,
)

from . import textforms
from .reindex import ReindexRunning
from .service import DocketService
from .settings import LATEST_COUNT_MAX, LATEST_DAYS_MAX

log = logging.getLogger(__name__)

_OPTION = re.compile(r"^(days|count):(.*)$", re.IGNORECASE)
_OPTION_MAX = {"days": LATEST_DAYS_MAX, "count": LATEST_COUNT_MAX}  # as the slash command's


async def ensure_index(service: DocketService, err: TextIO) -> None:
    """Build the sample index on first run (no published snapshot in the data dir)."""
    data_dir = service.settings.data_dir
    if current_snapshot_name(data_dir) is not None:
        return
    print(f"No index in {data_dir} yet: building one from the bundled sample corpus "
          "(first run only)…", file=err, flush=True)
    with Progress(err) as shown:  # a bar on a terminal, a line now and then in a log
        summary = await run_ingest([str(sample_dir())], service.settings, service.index.encoder,
                               progress=shown.update)
    print(f"  {summary.line()}", file=err, flush=True)
    await service.index.reload_if_changed()


class Session:
    """One terminal conversation: remembers the last question for /more."""

    def __init__(self, service: DocketService, *, color: bool = False,
                 progress: TextIO = sys.stderr) -> None:
        self.service = service
        self.color = color
        self.progress_out = progress
        self.last_question: str | None = None
        self.next_offset = -1  # where /more goes on; -1 once everything found was shown
        self.found_any = False

    async def handle(self, line: str) -> str | None:
        """The output for one input line; None means quit."""
        line = line.strip()
        if not line:
            return ""
        if line.startswith("/"):
            command, _, rest = line[1:].partition(" ")
        else:
            command, rest = "ask", line  # a bare question
        handlers: dict[str, Callable[[str], Awaitable[str]]] = {
            "ask": self.ask, "more": self.more, "latest": self.latest, "sources": self.sources,
            "status": self.status, "reindex": self.reindex, "help": self.help,
            "case": self.case, "cases": self.cases, "trends": self.trends,
        }
        if command.lower() in {"quit", "exit", "q"}:
            return None
        handler = handlers.get(command.lower())
        if handler is None:
            return f"Unknown command /{command}; /help lists the commands."
        try:
            return await handler(rest.strip())
        except DocketError as exc:
            return f"error: {exc}"
        except Exception:  # the session goes on; the traceback goes to the log
            log.exception("/%s failed", command)
            return "Something went wrong; the error was logged."

    async def ask(self, question: str) -> str:
        await self.service.index.reload_if_changed()
        response = await self.service.ask(question)
        # A question that could not be searched leaves nothing for /more to go on.
        self.last_question = None if response.error else question
        self.found_any = bool(response.results)
        self.next_offset = len(response.results) if response.has_more else -1
        return textforms.answer_text(response, index_age_s=self.service.index_age_s(),
                                     color=self.color)

    async def more(self, _rest: str) -> str:
        if self.last_question is None:
            return "Nothing more: ask a question first."
        if self.next_offset < 0:
            return textforms.no_more_text(self.last_question, found=self.found_any)
        offset = self.next_offset
        response = await self.service.ask(self.last_question, offset=offset)
        if not response.results:
            self.next_offset = -1
            return textforms.no_more_text(self.last_question, found=self.found_any)
        self.next_offset = offset + len(response.results) if response.has_more else -1
        return textforms.answer_text(response, color=self.color, offset=offset)

    async def latest(self, rest: str) -> str:
        options: dict[str, int] = {}
        words = []
        try:
            tokens = shlex.split(rest)
        except ValueError:
            tokens = rest.split()
        for token in tokens:
            match = _OPTION.match(token)
            if match is None:
                words.append(token)
                continue
            name, value = match[1].lower(), match[2]
            high = _OPTION_MAX[name]
            wanted = f"{name}: expected a whole number from 1 to {high}"
            try:
                number = int(value)
            except ValueError:  # refused, never read as part of the topic
                return f"{wanted}, not {value!r}."
            if not 1 <= number <= high:
                return f"{wanted}, not {number}."
            options[name] = number
        days, count = options.get("days"), options.get("count")
        topic = " ".join(words) or None
        results = await self.service.latest(topic, days=days, count=count)
        return textforms.latest_text(results, topic=topic, days=days, color=self.color)

    async def sources(self, _rest: str) -> str:
        return textforms.sources_text(await self.service.sources())

    async def status(self, _rest: str) -> str:
        return textforms.status_text(await self.service.status())

    async def reindex(self, rest: str) -> str:
        try:
            run = self.service.reindex(full=rest.strip().lower() == "full", by="terminal")
        except ReindexRunning as exc:
            return f"already running: {exc.run.line()}"
        while run.running:
            print(f"  {run.line()}", file=self.progress_out, flush=True)
            try:
                await asyncio.wait_for(run.finished_event.wait(), 2.0)
            except TimeoutError:
                pass
        if run.error or run.summary is None:
            return run.line()
        return f"{run.line()}: {run.summary.line()}"

    async def case(self, name: str) -> str:
        """/case NAME: the case's timeline (the text `python -m index case` prints)."""
        await self.service.index.reload_if_changed()
        book = self.service.index.cases
        if not name:
            return "Which case? For example: /case Bartz v. Anthropic (/cases lists them)."
        found = book.resolve(name)
        if found is None:
            return case_not_found_text(book, name)
        return case_timeline_text(book, found)

    async def cases(self, _rest: str) -> str:
        await self.service.index.reload_if_changed()
        return cases_text(self.service.index.cases)

    async def trends(self, rest: str) -> str:
        """/trends [topic] [weeks:N]: the chart written to a file, its path and a sparkline."""
        words, weeks = [], DEFAULT_WEEKS
        for token in rest.split():
            name, colon, value = token.partition(":")
            if colon and name.lower() == "weeks":
                try:
                    weeks = check_weeks(value)
                except ValueError as exc:  # refused, never read as part of the topic
                    return str(exc)
            else:
                words.append(token)
        await self.service.index.reload_if_changed()
        trend = await self.service.index.trend(" ".join(words) or None, weeks=weeks)
        if trend.empty:
            return await trend_empty_text(self.service.index, trend)
        path = await write_trend_png(trend, self.service.settings.data_dir / "trends.png")
        return f"{trend.summary()}\n{trend.sparkline()}\nchart: {path}"

    async def help(self, _rest: str) -> str:
        return textforms.TERMINAL_HELP


async def run_terminal(service: DocketService, *, stdin: TextIO = sys.stdin,
                       stdout: TextIO = sys.stdout, stderr: TextIO = sys.stderr,
                       started: float | None = None) -> int:
    await ensure_index(service, stderr)
    interactive = stdin.isatty()
    color = stdout.isatty() and not os.environ.get("NO_COLOR")
    session = Session(service, color=color, progress=stderr)
    stats = await service.index.stats()
    ready = f" Ready in {time.perf_counter() - started:.1f}s." if started is not None else ""
    log.info("terminal ready%s", ready)
    print(f"Docket, terminal mode (no DISCORD_TOKEN): {stats.articles} articles, snapshot "
          f"{stats.snapshot}.{ready} Ask a question, or /help.", file=stdout, flush=True)
    if interactive:
        print("> ", end="", file=stdout, flush=True)
    async for line in read_lines(stdin):
        output = await session.handle(line)
        if output is None:
            break
        if output:
            print(output + "\n", file=stdout, flush=True)
        if interactive:
            print("> ", end="", file=stdout, flush=True)
    return 0


async def read_lines(stream: TextIO) -> AsyncIterator[str]:
    """Lines from a blocking stream, read in a daemon thread (so Ctrl-C never waits on it)."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str | None] = asyncio.Queue()

    def pump() -> None:
        try:
            for line in iter(stream.readline, ""):
                loop.call_soon_threadsafe(queue.put_nowait, line)
        except (OSError, ValueError) as exc:  # closed or unreadable stdin ends the session
            log.debug("stdin: %s", exc)
        finally:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, None)
            except RuntimeError:  # the loop is gone
                pass

    threading.Thread(target=pump, name="docket-stdin", daemon=True).start()
    while (line := await queue.get()) is not None:
        yield line
