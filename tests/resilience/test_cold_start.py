"""A provider that scales to zero, as real processes: a request that arrives while it has no
replica is held until one is ready, then served; past the bounds it falls back, or gets 503
with Retry-After; a client that leaves stops waiting. The router's metrics count each wait."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import openai
import pytest
from openai import OpenAI

from support.processes import ServiceProcess, free_port, wait_until
from support.stack import Stack, metric_value, start_router
from support.tone_stack import requests_seen, start_tone_provider


class Sleepy:
    """A router whose provider `sleepy` scales to zero; nothing listens on its port until
    a test wakes it."""

    def __init__(self, router: ServiceProcess, port: int, logs: Path) -> None:
        self.router = router
        self.port = port
        self.logs = logs
        self.provider: ServiceProcess | None = None

    def wake(self) -> ServiceProcess:
        self.provider = start_tone_provider("sleepy", self.logs, port=self.port)
        return self.provider

    def metric(self, name: str, **labels: str) -> float:
        return metric_value(self.router.url, name, **labels)

    def waiting(self) -> float:
        return self.metric("tts_cold_start_waiting_requests", provider="sleepy")

    def waits(self, outcome: str) -> float:
        return self.metric("tts_cold_start_wait_seconds_count", outcome=outcome, provider="sleepy")

    def client(self, timeout: float = 60) -> OpenAI:
        return OpenAI(
            base_url=f"{self.router.url}/v1", api_key="local", max_retries=0, timeout=timeout
        )


def _entry(name: str, url: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "url": url, "models": ["tone"], "voices": {"alloy": "low"}, **extra}


@contextmanager
def _sleepy(
    logs: Path, env: dict[str, str], fallback: ServiceProcess | None = None
) -> Iterator[Sleepy]:
    port = free_port()
    routing: dict[str, Any] = {"priority": 20}
    entries = [_entry("sleepy", f"http://127.0.0.1:{port}", scale_to_zero=True)]
    if fallback is not None:
        routing["fallback"] = ["awake"]
        entries.append(_entry("awake", fallback.url, routing={"priority": 10}))
    entries[0]["routing"] = routing
    registry = logs / "providers.yaml"
    Stack.write_registry_file(registry, entries)
    sleepy = Sleepy(start_router(registry, logs, env), port, logs)
    try:
        sleepy.router.wait_ready("/healthz")
        yield sleepy
    finally:
        sleepy.router.stop()
        if sleepy.provider is not None:
            sleepy.provider.stop()


@pytest.fixture
def sleepy(tmp_path: Path) -> Iterator[Sleepy]:
    with _sleepy(tmp_path, {"CHORUS_ROUTER_COLD_START_WAIT_S": "60"}) as started:
        yield started


def _speak(client: OpenAI, text: str = "Are you awake yet?") -> bytes:
    return client.audio.speech.create(
        model="tone", voice="alloy", input=text, response_format="pcm"
    ).content


def test_a_request_waits_for_the_provider_to_wake_and_is_served(sleepy: Sleepy) -> None:
    with ThreadPoolExecutor(1) as pool:
        audio: Future[bytes] = pool.submit(_speak, sleepy.client())
        assert wait_until(lambda: sleepy.waiting() == 1, 30), "the request is held"
        assert not audio.done()
        provider = sleepy.wake()
        assert len(audio.result(timeout=60)) > 1000, "served once the provider was ready"
    assert requests_seen(provider) == 1
    assert sleepy.waits("ready") == 1, "its wait was counted"
    assert sleepy.metric("tts_cold_start_wait_seconds_sum", outcome="ready", provider="sleepy") > 0
    assert sleepy.waiting() == 0
    assert len(_speak(sleepy.client())) > 1000, "awake now: served without a wait"
    assert sleepy.waits("ready") == 1


def test_a_client_that_leaves_stops_waiting(sleepy: Sleepy) -> None:
    with pytest.raises(openai.APITimeoutError):
        _speak(sleepy.client(timeout=2))
    assert wait_until(lambda: sleepy.waits("left") == 1, 30), "counted as left"
    assert sleepy.waiting() == 0
    left_after = sleepy.metric("tts_cold_start_wait_seconds_sum", outcome="left", provider="sleepy")
    assert left_after < 30, "it stopped when the client went, not at the 60 s bound"


@pytest.fixture
def impatient(tmp_path: Path) -> Iterator[Sleepy]:
    env = {"CHORUS_ROUTER_COLD_START_WAIT_S": "1", "CHORUS_ROUTER_COLD_START_MAX_WAITING": "1"}
    with _sleepy(tmp_path, env) as started:
        yield started


def test_past_the_wait_the_client_gets_503_with_retry_after(impatient: Sleepy) -> None:
    with pytest.raises(openai.InternalServerError) as refused:
        _speak(impatient.client())
    assert refused.value.status_code == 503
    assert float(refused.value.response.headers["retry-after"]) >= 1
    body = refused.value.response.json()
    assert body["error"]["code"] == "service_unavailable"
    assert "still waking" in body["error"]["message"]
    assert impatient.waits("timed_out") == 1


def test_past_the_number_waiting_a_request_is_refused_at_once(tmp_path: Path) -> None:
    env = {"CHORUS_ROUTER_COLD_START_WAIT_S": "60", "CHORUS_ROUTER_COLD_START_MAX_WAITING": "1"}
    with _sleepy(tmp_path, env) as sleepy, ThreadPoolExecutor(1) as pool:
        held = pool.submit(_speak, sleepy.client())
        assert wait_until(lambda: sleepy.waiting() == 1, 30)
        with pytest.raises(openai.InternalServerError) as refused:
            _speak(sleepy.client())
        assert refused.value.status_code == 503
        assert sleepy.waits("full") == 1
        sleepy.wake()
        assert len(held.result(timeout=60)) > 1000, "the one held is still served"


def test_past_the_wait_the_fallback_serves(tmp_path: Path) -> None:
    awake = start_tone_provider("awake", tmp_path)
    try:
        awake.wait_ready()
        with _sleepy(tmp_path, {"CHORUS_ROUTER_COLD_START_WAIT_S": "1"}, awake) as sleepy:
            assert len(_speak(sleepy.client())) > 1000
            assert requests_seen(awake) == 1
            assert sleepy.waits("timed_out") == 1, "the sleeping provider was waited for first"
    finally:
        awake.stop()
