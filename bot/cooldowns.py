"""Per-user cooldowns and a global limit on searches running at once.

A search first reserves a place (`SearchLimiter.reserve`, synchronous, so a refusal
can be the interaction's first, ephemeral response), then acknowledges Discord, then
waits for its turn (`Slot.turn`). The reservation is released when the slot's
`async with` block ends, whatever happens inside it.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Callable
from types import TracebackType


class TryAgain(Exception):
    """The user asked too often, or too many searches are queued; retry after `retry_after` s."""

    def __init__(self, retry_after: float, reason: str) -> None:
        self.retry_after = max(1, math.ceil(retry_after))
        self.reason = reason  # "cooldown" or "busy"
        super().__init__(f"{reason}: try again in {self.retry_after} s")


class Cooldown:
    """At most `rate` uses per `per` seconds for each key (a sliding window)."""

    def __init__(self, rate: int, per: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.per = per
        self.clock = clock
        self._uses: dict[int, deque[float]] = {}

    def retry_after(self, key: int) -> float:
        """Seconds until `key` may go again (0 when it may go now); does not record a use."""
        now = self.clock()
        uses = self._uses.get(key)
        if not uses:
            return 0.0
        while uses and now - uses[0] >= self.per:
            uses.popleft()
        if len(uses) < self.rate:
            return 0.0
        return self.per - (now - uses[0])

    def hit(self, key: int) -> None:
        now = self.clock()
        self._uses.setdefault(key, deque()).append(now)
        if len(self._uses) > 10_000:
            self._forget_idle(now)

    def _forget_idle(self, now: float) -> None:
        idle = [k for k, uses in self._uses.items() if not uses or now - uses[-1] >= self.per]
        for key in idle:
            del self._uses[key]


class Slot:
    """A reserved place for one search; see the module docstring."""

    def __init__(self, limiter: SearchLimiter) -> None:
        self._limiter = limiter
        self._holding = False
        self._released = False

    async def turn(self) -> None:
        """Wait until fewer than `max_concurrent` searches run."""
        if not self._holding and not self._released:
            await self._limiter._running.acquire()
            self._holding = True

    def release(self) -> None:
        if self._released:
            return
        self._released = True
        self._limiter._reserved -= 1
        if self._holding:
            self._holding = False
            self._limiter._running.release()

    async def __aenter__(self) -> Slot:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        self.release()


class SearchLimiter:
    """Per-user cooldown plus a global bound on running and waiting searches."""

    def __init__(self, *, rate: int, per: float, max_concurrent: int, max_waiting: int,
                 exempt: Callable[[int], bool] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.cooldown = Cooldown(rate, per, clock=clock)
        self.max_concurrent = max_concurrent
        self.max_waiting = max_waiting
        self.exempt = exempt or (lambda _user_id: False)
        self._running = asyncio.Semaphore(max_concurrent)
        self._reserved = 0
        self.typical_search_s = 0.5  # refined by callers that measure searches

    @property
    def reserved(self) -> int:
        return self._reserved

    def reserve(self, user_id: int) -> Slot:
        """A slot for one search by `user_id`, or TryAgain with the wait in seconds."""
        if not self.exempt(user_id):
            wait = self.cooldown.retry_after(user_id)
            if wait > 0:
                raise TryAgain(wait, "cooldown")
        if self._reserved >= self.max_concurrent + self.max_waiting:
            queued = self._reserved - self.max_concurrent + 1
            raise TryAgain(self.typical_search_s * queued / self.max_concurrent, "busy")
        if not self.exempt(user_id):
            self.cooldown.hit(user_id)
        self._reserved += 1
        return Slot(self)
