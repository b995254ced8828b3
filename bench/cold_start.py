"""Scale from zero: a request that arrives while its provider has no replica, which then
takes `START_S` to start (a model loading), is held and served, not refused.

The provider is the tone provider of the resilience tests with a slow `load()`; nothing
listens on its address until the router holds the request (its
`tts_cold_start_waiting_requests` is 1), which is when an autoscaler would start a replica.
"""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from bench.measure import stream_post
from bench.report import Table
from support.processes import free_port, wait_until
from support.stack import Stack, start_router
from support.tone_stack import start_tone_provider

START_S = 20.0


def held_while_it_wakes(logs: Path) -> Table:
    port = free_port()
    registry = logs / "cold-start-providers.yaml"
    entry = {
        "name": "sleepy",
        "url": f"http://127.0.0.1:{port}",
        "models": ["tone"],
        "voices": {"alloy": "low"},
        "scale_to_zero": True,
    }
    Stack.write_registry_file(registry, [entry])
    router = start_router(registry, logs, {"CHORUS_ROUTER_PROVIDER_POLL_INTERVAL_S": "1"})
    provider = None
    body = {"model": "tone", "voice": "alloy", "input": "Good morning.", "response_format": "pcm"}
    try:
        router.wait_ready("/healthz")
        with ThreadPoolExecutor(1) as pool:
            sent = time.monotonic()
            answer = pool.submit(
                stream_post, f"{router.url}/v1/audio/speech", {**body, "stream": True}, 16_000
            )
            if not wait_until(lambda: _metric(router.url, "waiting_requests") == 1, 30):
                raise TimeoutError("the router did not hold the request")
            held_at = time.monotonic() - sent
            provider = start_tone_provider(
                "sleepy", logs, port=port, env={"CHORUS_FAULTY_LOAD_S": str(START_S)}
            )
            # stream_post raises unless the answer is 200.
            first_audio = answer.result(timeout=START_S + 120).first_byte_s
        waited = _metric(router.url, "wait_seconds_sum")
    finally:
        router.stop()
        if provider is not None:
            provider.stop()
    table = Table(
        "cold-start",
        f"A request for a provider at zero replicas; the replica, started once the router "
        f"holds the request, takes {START_S:g} s to load",
        "make bench BENCH=cold-start",
        ["status", "held after s", "first audio s", "tts_cold_start_wait_seconds"],
    )
    table.add("200", held_at, first_audio, waited)
    table.note(
        "First audio comes after the simulated start plus the process's own start and the "
        "router's readiness poll (1 s here, CHORUS_ROUTER_PROVIDER_POLL_INTERVAL_S)."
    )
    return table


def _metric(url: str, name: str) -> float:
    text = httpx.get(f"{url}/metrics", timeout=5).text
    found = re.search(rf"^tts_cold_start_{name}\{{[^}}]*\}} (\S+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0
