"""Requests held for a provider that scaled to zero, while it wakes.

A provider that scales to zero (`scale_to_zero: true` in providers.yaml; a TTSProvider with
`autoscaling.minReplicas: 0` in a cluster) has no ready replica while idle. A request for it
waits until a replica is ready, then is served, instead of being refused. The requests
waiting per provider are a gauge an autoscaler wakes the provider on (KEDA's Prometheus
trigger on `tts_cold_start_waiting_requests`), and each wait is counted in
`tts_cold_start_wait_seconds`. Both the wait and the number waiting are bounded; past
either the request goes on to its fallbacks, or gets 503 with Retry-After. A client that
leaves stops waiting at once (its task is cancelled).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from chorus_router.metrics import RouterMetrics
from chorus_router.routing.pool import ProviderHandle

# What a client that was not served in time is told to wait before asking again: a model
# still loading after the whole wait is likely minutes from ready, not seconds.
RETRY_AFTER_WAKING_S = 10.0


@dataclass(frozen=True)
class ColdStartBounds:
    """How long one request waits for a provider to wake, and how many may wait on it."""

    wait_s: float
    max_waiting: int


# The router's settings' defaults (cold_start_wait_s, cold_start_max_waiting).
DEFAULT_COLD_START = ColdStartBounds(wait_s=120.0, max_waiting=64)


class StillWaking(Exception):
    """The provider did not wake within the bounds: the request goes on without it."""


class ColdStarts:
    """The requests this router holds for providers that scaled to zero."""

    def __init__(self, bounds: ColdStartBounds, metrics: RouterMetrics) -> None:
        self._bounds = bounds
        self._metrics = metrics
        self._waiting: dict[str, int] = {}

    async def wait(self, handle: ProviderHandle) -> float:
        """Wait for `handle` to have a ready replica; the seconds waited. Raises StillWaking
        past the bounds."""
        name = handle.name
        if handle.ready:
            return 0.0
        if self._waiting.get(name, 0) >= self._bounds.max_waiting:
            self._metrics.cold_start_wait.labels(name, "full").observe(0.0)
            raise StillWaking(f"{self._bounds.max_waiting} requests already wait for it to wake")
        self._waiting[name] = self._waiting.get(name, 0) + 1
        gauge = self._metrics.cold_start_waiting.labels(name)
        gauge.inc()
        started = time.monotonic()
        outcome = "left"
        try:
            async with asyncio.timeout(self._bounds.wait_s):
                await handle.became_ready.wait()
            outcome = "ready"
        except TimeoutError:
            outcome = "timed_out"
            raise StillWaking(f"not ready after waiting {self._bounds.wait_s:g}s") from None
        finally:
            self._waiting[name] -= 1
            gauge.dec()
            waited = time.monotonic() - started
            self._metrics.cold_start_wait.labels(name, outcome).observe(waited)
        return waited
