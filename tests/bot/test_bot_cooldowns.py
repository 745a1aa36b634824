"""Per-user cooldowns and the global limit on searches."""

from __future__ import annotations

import asyncio

import pytest

from bot.cooldowns import Cooldown, SearchLimiter, TryAgain


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_cooldown_allows_rate_uses_per_window_then_says_how_long() -> None:
    clock = Clock()
    cd = Cooldown(2, 30.0, clock=clock)
    for _ in range(2):
        assert cd.retry_after(1) == 0
        cd.hit(1)
    clock.now += 10
    assert cd.retry_after(1) == pytest.approx(20.0)
    assert cd.retry_after(2) == 0  # other users are not affected
    clock.now += 20
    assert cd.retry_after(1) == 0


def test_limiter_refuses_a_fast_user_with_whole_seconds() -> None:
    clock = Clock()
    limiter = SearchLimiter(rate=1, per=10, max_concurrent=2, max_waiting=0, clock=clock)
    limiter.reserve(1).release()
    clock.now += 0.5
    with pytest.raises(TryAgain) as refused:
        limiter.reserve(1)
    assert refused.value.reason == "cooldown" and refused.value.retry_after == 10
    assert "try again in 10 s" in str(refused.value)


def test_exempt_users_skip_the_cooldown() -> None:
    limiter = SearchLimiter(rate=1, per=10, max_concurrent=2, max_waiting=5,
                            exempt=lambda uid: uid == 9)
    for _ in range(3):
        limiter.reserve(9).release()


@pytest.mark.asyncio(loop_scope="function")
async def test_concurrency_limit_queues_then_refuses_when_full() -> None:
    limiter = SearchLimiter(rate=100, per=1, max_concurrent=1, max_waiting=1)
    first = limiter.reserve(1)
    await first.turn()
    second = limiter.reserve(2)
    waiting = asyncio.create_task(second.turn())
    await asyncio.sleep(0.01)
    assert not waiting.done()  # the single slot is taken
    with pytest.raises(TryAgain) as busy:
        limiter.reserve(3)
    assert busy.value.reason == "busy" and busy.value.retry_after >= 1
    first.release()
    await asyncio.wait_for(waiting, 1)
    second.release()
    assert limiter.reserved == 0


@pytest.mark.asyncio(loop_scope="function")
async def test_a_slot_is_released_when_its_block_raises() -> None:
    limiter = SearchLimiter(rate=100, per=1, max_concurrent=1, max_waiting=0)
    with pytest.raises(RuntimeError):
        async with limiter.reserve(1) as slot:
            await slot.turn()
            raise RuntimeError("search failed")
    async with limiter.reserve(1) as slot:  # the slot came back
        await asyncio.wait_for(slot.turn(), 1)
    assert limiter.reserved == 0
