"""`python -m index cases` and `python -m index case NAME`: the cases found at ingest.

`cases` lists them, most recently active first (name, stories, first and last date);
`case NAME` prints one case's timeline, newest first, with its latest status on top.
The terminal session's `/case NAME` prints the same text.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any

from . import display
from .casebook import CaseBook
from .cases import Case, TimelineEntry


def add_commands(command: Callable[[str, str], argparse.ArgumentParser]) -> None:
    p = command("cases", "the lawsuits and proceedings the index reports on")
    p.add_argument("--json", action="store_true", help="print the cases as JSON")
    p = command("case", "one case's timeline, newest first")
    p.add_argument("name", help='the case, e.g. "Bartz v. Anthropic" (loosely spelled is fine)')
    p.add_argument("--json", action="store_true", help="print the timeline as JSON")


def case_json(case: Case) -> dict[str, Any]:
    return {"name": case.name, "key": case.key, "aliases": list(case.aliases),
            "stories": len(case.story_ids), "first": case.first, "last": case.last}


def entry_json(entry: TimelineEntry, title: str | None = None) -> dict[str, Any]:
    return {"date": entry.date, "sentence": entry.sentence, "outlet": entry.outlet,
            "url": entry.url, "title": title}


def format_cases(book: CaseBook) -> str:
    if not book.cases:
        return "No cases found in the index yet."
    lines = [f"{len(book)} case{'s' if len(book) != 1 else ''}, most recently active first:"]
    for case in book.cases:
        span = (display.human_date(case.first) if case.first == case.last
                else f"{display.human_date(case.first)} – {display.human_date(case.last)}")
        n = len(case.story_ids)
        lines.append(f"  {case.name} — {n} stor{'ies' if n != 1 else 'y'}, {span}")
    return "\n".join(lines)


def not_found(book: CaseBook, name: str) -> str:
    """One sentence for a name that is no case, with the closest names."""
    closest = book.closest(name)
    if not book.cases:
        return "No cases found in the index yet."
    if closest:
        return f"No case called “{name}”. Closest: {'; '.join(closest)}."
    return f"No case called “{name}”; `cases` lists the {len(book)} known."


def format_timeline(book: CaseBook, case: Case) -> str:
    entries = book.timeline(case)
    n = len(entries)
    lines = [f"{case.name} — {n} stor{'ies' if n != 1 else 'y'}"]
    if entries:
        latest = entries[0]
        lines.append(f"Latest ({display.human_date(latest.date)}): “{latest.sentence}”")
    for e in entries:
        lines += ["", f"{display.human_date(e.date)} · {e.outlet}", f"  “{e.sentence}”", f"  {e.url}"]
    return "\n".join(lines)


def run_cases(args: argparse.Namespace, book: CaseBook) -> int:
    if args.json:
        print(json.dumps({"cases": [case_json(c) for c in book.cases]}, ensure_ascii=False))
    else:
        print(format_cases(book))
    return 0


def run_case(args: argparse.Namespace, book: CaseBook) -> int:
    """The timeline, or (exit status 1) one sentence naming the closest cases."""
    case = book.resolve(args.name)
    if case is None:
        message = not_found(book, args.name)
        if args.json:
            print(json.dumps({"name": args.name, "error": message,
                              "closest": book.closest(args.name)}, ensure_ascii=False))
        else:
            print(message)
        return 1
    if args.json:
        print(json.dumps({**case_json(case), "timeline": [
            entry_json(e, book.titles.get(e.story_id)) for e in book.timeline(case)]},
            ensure_ascii=False))
    else:
        print(format_timeline(book, case))
    return 0
