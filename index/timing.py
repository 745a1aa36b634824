"""Per-stage wall-clock timings of one search, in milliseconds."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager


class Timings:
    """`with timings("faiss"): ...` adds the block's duration to that stage.

    A stage timed inside another is counted once, in the inner stage: the outer one
    excludes it, so the stages add up to the total."""

    def __init__(self) -> None:
        self._ms: dict[str, float] = {}
        self._open: list[str] = []

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        started = time.perf_counter()
        self._open.append(stage)
        try:
            yield
        finally:
            self._open.pop()
            elapsed = (time.perf_counter() - started) * 1000
            self.add(stage, elapsed)
            if self._open:
                self.add(self._open[-1], -elapsed)

    def add(self, stage: str, ms: float) -> None:
        self._ms[stage] = self._ms.get(stage, 0.0) + ms

    def report(self) -> dict[str, float]:
        """Each stage and their total, rounded to microseconds."""
        out = {stage: round(ms, 3) for stage, ms in self._ms.items()}
        out["total"] = round(sum(self._ms.values()), 3)
        return out
