"""One provider, two replicas (real provider processes) behind the router: streams go to
the least loaded replica, weighted by the slots each reports, and a killed espeak-ng
replica is passed over while the other serves."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from openai import OpenAI

from support.processes import ServiceProcess, wait_until
from support.stack import Stack, start_provider, start_router
from support.tone_stack import requests_seen, start_tone_provider

# Slots per replica: a takes 5 streams at once, b 2.
SLOTS = {"a": 5, "b": 2}
FAIL_MAX = 3
# Thirty sentences of tone at half a second's work each: a held stream lasts 15 s.
LONG = " ".join(f"Sentence {n} is here." for n in range(30))


def _replica_stack(tmp_path: Path, procs: dict[str, ServiceProcess], model: str) -> Stack:
    """`procs` as the replicas of one provider behind a router."""
    registry = tmp_path / "providers.yaml"
    entry = {
        "name": "one",
        "urls": [procs["a"].url, procs["b"].url],
        "models": [model],
        "voices": {"alloy": "low" if model == "tone" else "en-us"},
        "routing": {
            "retry": {"attempts": 2, "backoff_initial_s": 0, "jitter_s": 0},
            "breaker": {"fail_max": FAIL_MAX, "reset_timeout_s": 300},
        },
    }
    Stack.write_registry_file(registry, [entry])
    # Readiness polls would mark a killed replica down by themselves; slow them so the
    # test sees the router find out by calling it.
    env = {"CHORUS_ROUTER_PROVIDER_POLL_INTERVAL_S": "30"}
    stack = Stack(start_router(registry, tmp_path, env), procs, registry)
    for proc in procs.values():
        proc.wait_ready()
    stack.router.wait_ready("/healthz")
    stack.wait_for_states({"one": True})
    return stack


@pytest.fixture
def tone_replicas(tmp_path: Path) -> Iterator[Stack]:
    """Two tone replicas (a real provider app whose engine works 0.5 s per sentence)."""
    procs = {
        name: start_tone_provider(
            name,
            tmp_path,
            env={
                "CHORUS_FAULTY_MAX_CONCURRENCY": str(n),
                "CHORUS_FAULTY_WORK_PER_SENTENCE_S": "0.5",
            },
        )
        for name, n in SLOTS.items()
    }
    stack = _replica_stack(tmp_path, procs, "tone")
    yield stack
    stack.stop()


@pytest.fixture
def espeak_replicas(tmp_path: Path) -> Iterator[Stack]:
    """Two espeak-ng replicas; a has the more slots, so the router tries it first."""
    procs = {
        name: start_provider(
            "espeak", tmp_path, name=f"espeak-{name}", env={"CHORUS_ESPEAK_MAX_CONCURRENCY": str(n)}
        )
        for name, n in SLOTS.items()
    }
    stack = _replica_stack(tmp_path, procs, "espeak")
    yield stack
    stack.stop()


def _client(stack: Stack) -> OpenAI:
    return OpenAI(base_url=stack.base_url, api_key="local", max_retries=0, timeout=60)


def _replica_view(stack: Stack) -> list[dict[str, Any]]:
    body = httpx.get(f"{stack.router.url}/api/v1/audio/health", timeout=5).json()
    (provider,) = body["providers"]
    replicas: list[dict[str, Any]] = provider["replicas"]
    return replicas


def test_held_streams_spread_by_load_per_slot(tone_replicas: Stack) -> None:
    replicas = tone_replicas
    client = _client(replicas)
    reading: list[Iterator[bytes]] = []
    with ExitStack() as held:
        for _ in range(5):
            response = held.enter_context(
                client.audio.speech.with_streaming_response.create(
                    model="tone",
                    voice="alloy",
                    input=LONG,
                    response_format="pcm",
                    extra_body={"stream": True},
                )
            )
            # Kept: an iterator dropped closes its response, and the client has left.
            reading.append(response.iter_bytes())
            assert next(reading[-1]), "the stream started"
        in_flight = {r["url"]: r["in_flight"] for r in _replica_view(replicas)}
    a, b = (replicas.providers[name].url for name in ("a", "b"))
    # Streams per slot: a 1/5, 2/5, b 1/2, a 3/5, 4/5; round robin would give 3 and 2.
    assert in_flight == {a: 4, b: 1}
    assert wait_until(
        lambda: (
            requests_seen(replicas.providers["a"]) + requests_seen(replicas.providers["b"]) == 5
        ),
        30,
    )
    assert requests_seen(replicas.providers["a"]) == 4, "the replicas saw what the router counted"
    assert all(r["in_flight"] == 0 for r in _replica_view(replicas)), "each stream let go"


def test_a_killed_replica_is_passed_over_and_the_provider_serves_on(
    espeak_replicas: Stack,
) -> None:
    replicas = espeak_replicas
    client = _client(replicas)
    replicas.providers["a"].signal(signal.SIGKILL)
    replicas.providers["a"].wait_exit(10)
    for n in range(2 * FAIL_MAX):
        audio = client.audio.speech.create(
            model="espeak", voice="alloy", input=f"Request {n}.", response_format="pcm"
        )
        assert len(audio.content) > 1000, "served by b, at once or on the retry"
    view = {r["url"]: r for r in _replica_view(replicas)}
    assert view[replicas.providers["a"].url]["breaker"] == "open", "tried FAIL_MAX times"
    assert view[replicas.providers["b"].url]["breaker"] == "closed"
    assert requests_seen(replicas.providers["b"]) == 2 * FAIL_MAX
    health = httpx.get(f"{replicas.router.url}/api/v1/audio/health", timeout=5).json()
    assert health["status"] == "ok", "one provider, still serving"
    assert health["providers"][0]["breaker"] == "closed"
