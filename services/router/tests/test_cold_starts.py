"""Requests held for a provider that scaled to zero: released when it is ready, refused past
the number allowed to wait or the wait's bound, and counted either way."""

from __future__ import annotations

import asyncio

import pytest

from chorus_contracts import BreakerPolicy
from chorus_router.metrics import RouterMetrics
from chorus_router.routing.pool import ProviderHandle
from chorus_router.routing.provider_health import ProviderHealth
from chorus_router.routing.registry import ProviderEntry
from chorus_router.routing.replicas import Replicas
from chorus_router.speech.waking import ColdStartBounds, ColdStarts, StillWaking

POLICY = BreakerPolicy()


def _asleep() -> ProviderHandle:
    entry = ProviderEntry(name="qwen", url="http://qwen:8000", models=["qwen"], scale_to_zero=True)
    clock = lambda: 0.0  # noqa: E731
    return ProviderHandle(
        entry, ProviderHealth("qwen", POLICY, clock), Replicas("qwen", POLICY, clock)
    )


def _sample(metrics: RouterMetrics, name: str, **labels: str) -> float:
    return metrics.registry.get_sample_value(name, {"provider": "qwen", **labels}) or 0.0


async def _held(metrics: RouterMetrics) -> None:
    """One turn of the loop: the task just created runs up to its wait."""
    await asyncio.sleep(0)
    assert _sample(metrics, "tts_cold_start_waiting_requests") == 1


async def test_a_held_request_goes_on_once_the_provider_is_ready() -> None:
    metrics = RouterMetrics(list)
    cold = ColdStarts(ColdStartBounds(wait_s=60, max_waiting=4), metrics)
    handle = _asleep()
    held = asyncio.create_task(cold.wait(handle))
    await _held(metrics)
    handle.ready = True
    handle.became_ready.set()
    assert await held >= 0
    assert _sample(metrics, "tts_cold_start_waiting_requests") == 0
    assert _sample(metrics, "tts_cold_start_wait_seconds_count", outcome="ready") == 1
    assert await cold.wait(handle) == 0.0, "awake: no wait, nothing counted"
    assert _sample(metrics, "tts_cold_start_wait_seconds_count", outcome="ready") == 1


async def test_past_the_number_waiting_or_the_bound_it_is_still_waking() -> None:
    metrics = RouterMetrics(list)
    cold = ColdStarts(ColdStartBounds(wait_s=0.05, max_waiting=1), metrics)
    handle = _asleep()
    first = asyncio.create_task(cold.wait(handle))
    await _held(metrics)
    with pytest.raises(StillWaking, match="already wait"):
        await cold.wait(handle)
    with pytest.raises(StillWaking, match="not ready after"):
        await first
    assert _sample(metrics, "tts_cold_start_wait_seconds_count", outcome="full") == 1
    assert _sample(metrics, "tts_cold_start_wait_seconds_count", outcome="timed_out") == 1


async def test_a_cancelled_wait_is_counted_as_left() -> None:
    metrics = RouterMetrics(list)
    cold = ColdStarts(ColdStartBounds(wait_s=60, max_waiting=1), metrics)
    held = asyncio.create_task(cold.wait(_asleep()))
    await _held(metrics)
    held.cancel()
    with pytest.raises(asyncio.CancelledError):
        await held
    assert _sample(metrics, "tts_cold_start_waiting_requests") == 0
    assert _sample(metrics, "tts_cold_start_wait_seconds_count", outcome="left") == 1
