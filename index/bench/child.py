"""The benchmark's search process: load the index, answer the questions, report.

`python -m index.bench.child QUESTIONS.json OUT.json` with DOCKET_DATA_DIR (and any
DOCKET__MODEL__* settings) in the environment. It is a separate process so that its
start-up time and peak memory are those of a fresh process that serves the index.
"""

from __future__ import annotations

import time

STARTED = time.time()  # before any heavy import: cold start counts the imports too

import asyncio  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402


async def _run(questions: list[str]) -> dict[str, Any]:
    from ..embed import Encoder
    from ..service import DocketIndex
    from ..settings import load_settings

    settings = load_settings()
    t0 = time.perf_counter()
    encoder = Encoder(settings.model)
    model_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    index = await DocketIndex(settings, encoder).open()
    index_s = time.perf_counter() - t0
    try:
        await index.search(questions[0])
        first_answer = time.time()
        timings = []
        for q in questions:
            response = await index.search(q)
            timings.append(response.timings_ms)
        return {"started": STARTED, "first_answer": first_answer, "model_load_s": model_s,
                "index_load_s": index_s, "timings": timings,
                "vector_index": index.snapshot.manifest.get("vector_index"),
                "passages": index.snapshot.passages,
                "peak_rss_mb": _peak_rss_mb()}
    finally:
        await index.close()


def _peak_rss_mb() -> float:
    """This process's peak RSS. VmHWM, not ru_maxrss: Linux carries ru_maxrss over from
    the forking parent across exec, so it would report the benchmark's own size."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str]) -> int:
    questions = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    report = asyncio.run(_run(questions))
    Path(argv[1]).write_text(json.dumps(report), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
