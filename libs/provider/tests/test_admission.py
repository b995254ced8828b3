from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from chorus_contracts import ProviderBusy
from chorus_provider import Admission


async def test_requests_beyond_the_slots_wait_then_get_busy() -> None:
    admission = Admission(max_concurrency=1, max_queue=1, queue_timeout_s=0.2)
    async with admission.slot():
        assert admission.running == 1
        with pytest.raises(ProviderBusy) as busy:
            async with admission.slot():
                pass
        assert busy.value.retry_after == 0.2
        assert busy.value.status == 429
    async with admission.slot():
        assert admission.running == 1
    assert admission.running == 0


async def test_a_full_queue_refuses_at_once() -> None:
    admission = Admission(max_concurrency=1, max_queue=1, queue_timeout_s=5)
    release = asyncio.Event()

    async def hold() -> None:
        async with admission.slot():
            await release.wait()

    async def settle(condition: Callable[[], bool]) -> None:
        for _ in range(100):
            if condition():
                return
            await asyncio.sleep(0.01)
        raise AssertionError("admission never reached the expected state")

    holder = asyncio.create_task(hold())
    await settle(lambda: admission.running == 1)
    waiter = asyncio.create_task(hold())
    await settle(lambda: admission.waiting == 1)
    with pytest.raises(ProviderBusy, match="queue is full"):
        async with admission.slot():
            pass
    release.set()
    await asyncio.gather(holder, waiter)
    assert (admission.running, admission.waiting) == (0, 0)


def test_the_real_time_factor_follows_recent_requests() -> None:
    admission = Admission(max_concurrency=1, max_queue=1, queue_timeout_s=1)
    assert admission.real_time_factor is None, "unknown until a request was served"
    admission.served(slot_s=1.0, audio_s=2.0)
    assert admission.real_time_factor == 0.5
    admission.served(slot_s=0.5, audio_s=0.0)
    assert admission.real_time_factor == 0.5, "a request with no audio says nothing of speed"
    for _ in range(30):
        admission.served(slot_s=2.0, audio_s=2.0)
    assert admission.real_time_factor == pytest.approx(1.0, abs=0.01), "it slowed down"
