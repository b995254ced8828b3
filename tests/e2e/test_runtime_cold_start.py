"""Scale from zero with a batching runtime, as real processes: a request for a `vllm-omni`
provider with no replica is held by the router while a replica starts and its model loads
(the vLLM-Omni fake behind chorus-openai), then served through the OpenAI SDK; the router's
cold-start metric counts the wait."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from openai import OpenAI

from support.processes import free_port, wait_until
from support.runtime_pod import RuntimePod, start_runtime_pod
from support.stack import Stack, metric_value, start_router

pytestmark = pytest.mark.e2e

LOAD_S = 3.0


def test_a_request_is_held_while_the_runtime_loads_then_served(tmp_path: Path) -> None:
    port = free_port()
    registry = tmp_path / "providers.yaml"
    Stack.write_registry_file(
        registry,
        [
            {
                "name": "qwen3-tts",
                "url": f"http://127.0.0.1:{port}",
                "models": ["qwen3-tts"],
                "voices": {"alloy": "vivian"},
                "scale_to_zero": True,
            }
        ],
    )
    router = start_router(registry, tmp_path, {"CHORUS_ROUTER_COLD_START_WAIT_S": "60"})
    pod: RuntimePod | None = None
    client = OpenAI(base_url=f"{router.url}/v1", api_key="local", max_retries=0, timeout=90)

    def metric(name: str, **labels: str) -> float:
        return metric_value(router.url, f"tts_cold_start_{name}", provider="qwen3-tts", **labels)

    def speak() -> bytes:
        return client.audio.speech.create(
            model="qwen3-tts", voice="alloy", input="Good morning.", response_format="pcm"
        ).content

    try:
        router.wait_ready("/healthz")
        with ThreadPoolExecutor(1) as pool:
            audio = pool.submit(speak)
            assert wait_until(lambda: metric("waiting_requests") == 1, 30), "held, not refused"
            # As an autoscaler would on that metric: a replica starts, its model loads.
            pod = start_runtime_pod("qwen3-tts", tmp_path, port=port, load_s=LOAD_S)
            assert len(audio.result(timeout=90)) > 2 * 24_000 * 0.3, "served once ready"
        assert pod.engine.requests()[-1]["json"]["voice"] == "vivian"
        assert metric("wait_seconds_count", outcome="ready") == 1, "its wait was counted"
        # The wait began before the replica started, so it spans at least the model's load.
        assert metric("wait_seconds_sum", outcome="ready") >= LOAD_S
        assert metric("waiting_requests") == 0
    finally:
        router.stop()
        if pod is not None:
            pod.stop()
