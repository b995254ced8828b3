"""Timing primitives: wall time of whole syntheses, time to the first audio byte."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from chorus_contracts import (
    FIRST_AUDIO_METRIC,
    PROVIDER_METRIC,
    SERVER_TIMING_HEADER,
    timing_ms,
)

# One client for every measured request, its connections kept alive as a real client keeps
# them: `httpx.stream` builds a client (and its TLS context, ~18 ms of CPU) per call, which
# sat inside every first-byte figure, direct and routed alike, and doubled their spread.
_CLIENT = httpx.Client(timeout=600)


@dataclass(frozen=True)
class Run:
    seconds: float
    audio_seconds: float
    first_byte_s: float
    # The router's X-Chorus-Cache answer (hit or miss), where it gave one.
    cache: str | None = None
    # What the engine itself took to its first audio, as the provider's Server-Timing
    # told it (passed on by the router), in seconds.
    engine_first_audio_s: float | None = None

    @property
    def beyond_engine_s(self) -> float:
        """The first byte less the engine's own part: what the hops and the router add."""
        assert self.engine_first_audio_s is not None, "no Server-Timing from the provider"
        return self.first_byte_s - self.engine_first_audio_s

    @property
    def rtf(self) -> float:
        """Real-time factor: seconds of compute per second of audio (lower is faster)."""
        return self.seconds / self.audio_seconds


def stream_post(url: str, body: dict[str, object], bytes_per_second: float) -> Run:
    """POST and read the streamed body, timing the first byte and the whole."""
    started = time.perf_counter()
    first = 0.0
    size = 0
    with _CLIENT.stream("POST", url, json=body) as response:
        response.raise_for_status()
        cache = response.headers.get("x-chorus-cache")
        timing = response.headers.get(SERVER_TIMING_HEADER)
        # Straight from a provider its own figure; through the router, the provider's part.
        engine_ms = timing_ms(timing, PROVIDER_METRIC) or timing_ms(timing, FIRST_AUDIO_METRIC)
        rate = response.headers.get("x-sample-rate")
        per_second = 2 * int(rate) if rate else bytes_per_second
        for chunk in response.iter_bytes():
            if not first:
                first = time.perf_counter() - started
            size += len(chunk)
    engine_s = None if engine_ms is None else engine_ms / 1000
    return Run(time.perf_counter() - started, size / per_second, first, cache, engine_s)


def timed(produce: Callable[[], tuple[float, float]]) -> Run:
    """Time an in-process synthesis returning (audio seconds, first-chunk seconds)."""
    started = time.perf_counter()
    audio_seconds, first = produce()
    return Run(time.perf_counter() - started, audio_seconds, first)


def median(runs: list[Run], field: str) -> float:
    return statistics.median(getattr(r, field) for r in runs)


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]
