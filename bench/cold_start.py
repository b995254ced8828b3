"""Scale from zero against the fake runtime: a request that arrives while a `vllm-omni`
provider has no replica is held and served once a replica is ready, not refused.

A replica is a runtime pod as local processes (tests/support/runtime_pod.py): the vLLM-Omni
contract fake, whose model takes `LOAD_S` to load (its /health answers 503 meanwhile), and
chorus-openai in front, ready only once the engine is. Nothing listens on the provider's
address until the router holds the request (its `tts_cold_start_waiting_requests` is 1),
which is when an autoscaler would start a replica.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.measure import stream_post
from bench.report import Table
from support.processes import free_port, wait_until
from support.runtime_pod import RuntimePod, start_runtime_pod
from support.stack import Stack, metric_value, start_router

LOAD_S = 20.0
PROVIDER = "qwen3-tts"


def held_while_it_wakes(logs: Path) -> Table:
    port = free_port()
    registry = logs / "cold-start-providers.yaml"
    entry = {
        "name": PROVIDER,
        "url": f"http://127.0.0.1:{port}",
        "models": [PROVIDER],
        "voices": {"alloy": "vivian"},
        "scale_to_zero": True,
    }
    Stack.write_registry_file(registry, [entry])
    router = start_router(registry, logs, {"CHORUS_ROUTER_PROVIDER_POLL_INTERVAL_S": "1"})
    pod: RuntimePod | None = None
    body = {"model": PROVIDER, "voice": "alloy", "input": "Good morning.", "stream": True}

    def metric(name: str, **labels: str) -> float:
        return metric_value(router.url, f"tts_cold_start_{name}", provider=PROVIDER, **labels)

    try:
        router.wait_ready("/healthz")
        with ThreadPoolExecutor(1) as pool:
            sent = time.monotonic()
            answer = pool.submit(stream_post, f"{router.url}/v1/audio/speech", body, 48_000)
            if not wait_until(lambda: metric("waiting_requests") == 1, 30):
                raise TimeoutError("the router did not hold the request")
            held_at = time.monotonic() - sent
            pod = start_runtime_pod(PROVIDER, logs, port=port, load_s=LOAD_S)
            # stream_post raises unless the answer is 200.
            first_audio = answer.result(timeout=LOAD_S + 120).first_byte_s
        waited = metric("wait_seconds_sum", outcome="ready")
        counted = metric("wait_seconds_count", outcome="ready")
    finally:
        router.stop()
        if pod is not None:
            pod.stop()
    table = Table(
        "cold-start",
        f"A request for a vllm-omni provider at zero replicas; the replica (the vLLM-Omni fake "
        f"behind chorus-openai), started once the router holds the request, loads its model "
        f"in {LOAD_S:g} s",
        "make bench BENCH=cold-start",
        ["status", "held after s", "first audio s", "waits counted", "wait_seconds_sum"],
    )
    table.add("200", held_at, first_audio, f"{counted:g}", waited)
    table.note(
        "First audio comes after the model's load plus the two processes' own start, "
        "chorus-openai's health poll (0.5 s) and the router's readiness poll (1 s here, "
        "CHORUS_ROUTER_PROVIDER_POLL_INTERVAL_S). The metrics are the router's "
        'tts_cold_start_wait_seconds{outcome="ready"}.'
    )
    return table
