"""`python -m index verify|eval|calibrate|bench`: check the live snapshot, run question
sets against the index, derive the abstention threshold, measure speed and memory."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable
from pathlib import Path

from .cli_common import EXIT_OK, EXIT_PARTIAL, open_index, whole
from .errors import SnapshotError
from .settings import Settings


def add_commands(command: Callable[[str, str], argparse.ArgumentParser]) -> None:
    """verify, eval and calibrate."""
    command("verify", "check the live snapshot deeply; non-zero exit on any problem")

    p = command("eval", "run question sets (QA.jsonl) against the index")
    p.add_argument("qa", type=Path, nargs="*",
                   help="question sets (default: the six sets of the sample corpus)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")

    p = command("calibrate", "derive the abstention threshold from a question set")
    p.add_argument("qa", type=Path, nargs="?", help="question set (default: the development set)")


def add_bench(command: Callable[[str, str], argparse.ArgumentParser]) -> None:
    p = command("bench", "speed and memory benchmark on synthetic corpora")
    p.add_argument("--passages", type=whole(1), nargs="+", default=[10_000, 100_000], metavar="N",
                   help="corpus sizes in passages (default: 10000 100000)")
    p.add_argument("--million", action="store_true", help="also 1,000,000 passages")
    p.add_argument("--repeats", type=whole(1), default=3, metavar="N",
                   help="runs per corpus size (default: 3)")
    p.add_argument("--json", type=Path, metavar="FILE", help="write the report here")
    p.add_argument("--compare", type=Path, metavar="FILE", help="an earlier report to compare with")
    p.add_argument("--backend", choices=["torch", "onnx", "both"], default=None,
                   help="model backend to measure (default: model.backend in the settings)")


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
    from .evaluate import QA_SETS, default_qa_paths, evaluate, format_report, format_table, load_qa

    paths = list(args.qa) or default_qa_paths()
    sets = [(path, load_qa(path)) for path in paths]
    index = await open_index(settings)
    try:
        reports = {path.name: await evaluate(index, qa) for path, qa in sets}
    finally:
        await index.close()
    if args.json:
        print(json.dumps(reports if len(reports) > 1 else next(iter(reports.values()))))
        return EXIT_OK
    for name, report in reports.items():
        print(f"== {name}" + (f" ({QA_SETS[name]})" if name in QA_SETS else ""))
        print(format_report(report) + "\n")
    labels = {f"{name} ({QA_SETS[name]})" if name in QA_SETS else name: r for name, r in reports.items()}
    print(format_table(labels))
    return EXIT_OK


async def cmd_calibrate(args: argparse.Namespace, settings: Settings) -> int:
    from .evaluate import calibrate, default_qa_path, load_qa

    qa = load_qa(args.qa or default_qa_path())
    index = await open_index(settings)
    try:
        result = await calibrate(index, qa)
    finally:
        await index.close()
    print(json.dumps(result, indent=2))
    return EXIT_OK


async def cmd_bench(args: argparse.Namespace, settings: Settings) -> int:
    from .bench.run import run_bench

    return await run_bench(args, settings)
