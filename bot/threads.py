"""Work that must not stall the bot's event loop, run on a loop of its own in a daemon thread.

A reindex and a feed poll both run this way: parsing, chunking, embedding, SQLite
writes and the ingest's flock all happen off the loop that keeps the gateway's
heartbeats, and a stopping bot can cancel the work and wait for it to unwind.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable
from typing import TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

# How long a stopped worker thread gets to unwind (close its databases, its HTTP session).
STOP_WAIT_S = 3.0


class _ThreadLoop:
    """The task a worker thread's event loop runs, so another thread can cancel it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[object] | None = None
        self._cancelled = False

    async def run(self, make: Callable[[], Awaitable[T]]) -> T:
        with self._lock:
            if self._cancelled:
                raise asyncio.CancelledError
            self._loop = asyncio.get_running_loop()
            self._task = asyncio.current_task()
        return await make()

    def cancel(self) -> None:
        with self._lock:
            self._cancelled = True
            if self._loop is not None and self._task is not None:
                try:
                    self._loop.call_soon_threadsafe(self._task.cancel)
                except RuntimeError:  # its loop is closed: the work has ended
                    pass


async def in_daemon_thread(make: Callable[[], Awaitable[T]], *, name: str) -> T:
    """Run a coroutine on its own event loop in a daemon thread and await its result.

    Not `asyncio.to_thread`: the default executor's threads are joined when the bot's
    loop shuts down, so a stop during a long reindex would hang until it finished.
    Cancelling the awaiting task cancels the coroutine in the thread too, and waits (up
    to STOP_WAIT_S) until the thread's loop has unwound: the databases and connections the
    work opened are closed by the time this raises CancelledError.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()
    worker = _ThreadLoop()

    def settle(outcome: tuple[T] | None, error: BaseException | None) -> None:
        if future.done():
            return
        if isinstance(error, asyncio.CancelledError):
            future.cancel()
        elif error is not None:
            future.set_exception(error)
        else:
            assert outcome is not None
            future.set_result(outcome[0])

    def target() -> None:
        outcome: tuple[T] | None = None
        error: BaseException | None = None
        try:
            with asyncio.Runner() as runner:
                outcome = (runner.run(worker.run(make)),)
        except BaseException as exc:  # handed to the awaiting task, which classifies it
            error = exc
        try:
            loop.call_soon_threadsafe(settle, outcome, error)
        except RuntimeError:  # the bot's loop is closed: nobody is waiting any more
            pass

    threading.Thread(target=target, name=name, daemon=True).start()
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        if not future.done():
            worker.cancel()
            await asyncio.wait({future}, timeout=STOP_WAIT_S)
            if not future.done():
                log.warning("%s did not stop within %.0fs", name, STOP_WAIT_S)
        raise
