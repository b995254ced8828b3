"""One provider, two real espeak-ng replicas behind the router: streams go to the least
loaded replica, weighted by the slots each reports, and a killed replica is passed over
while the other serves."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from openai import OpenAI

from support.processes import wait_until
from support.stack import Stack, start_provider, start_router
from support.tone_stack import requests_seen

# Slots per replica: a takes 5 streams at once, b 2.
SLOTS = {"a": 5, "b": 2}
FAIL_MAX = 3
# 3,500 characters spoken slowly: some nine minutes of audio, far more than the sockets
# between the replica, the router and the client hold, so a stream the client does not read
# stays open (in flight) until the client lets go.
LONG = " ".join(["This sentence goes on for a while."] * 100)


@pytest.fixture
def replicas(tmp_path: Path) -> Iterator[Stack]:
    """Two espeak-ng replicas of the provider `one` behind a router; a reports the more
    slots, so the router tries it first."""
    procs = {
        name: start_provider(
            "espeak", tmp_path, name=f"espeak-{name}", env={"CHORUS_ESPEAK_MAX_CONCURRENCY": str(n)}
        )
        for name, n in SLOTS.items()
    }
    registry = tmp_path / "providers.yaml"
    entry = {
        "name": "one",
        "urls": [procs["a"].url, procs["b"].url],
        "models": ["espeak"],
        "voices": {"alloy": "en-us"},
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
    try:
        for proc in procs.values():
            proc.wait_ready()
        stack.router.wait_ready("/healthz")
        stack.wait_for_states({"one": True})
        yield stack
    finally:
        stack.stop()


def _client(stack: Stack) -> OpenAI:
    return OpenAI(base_url=stack.base_url, api_key="local", max_retries=0, timeout=60)


def _replica_view(stack: Stack) -> list[dict[str, Any]]:
    body = httpx.get(f"{stack.router.url}/api/v1/audio/health", timeout=5).json()
    (provider,) = body["providers"]
    replicas: list[dict[str, Any]] = provider["replicas"]
    return replicas


def test_held_streams_spread_by_load_per_slot(replicas: Stack) -> None:
    client = _client(replicas)
    reading: list[Iterator[bytes]] = []
    with ExitStack() as held:
        for _ in range(5):
            response = held.enter_context(
                client.audio.speech.with_streaming_response.create(
                    model="espeak",
                    voice="alloy",
                    input=LONG,
                    speed=0.5,
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


def test_a_killed_replica_is_passed_over_and_the_provider_serves_on(replicas: Stack) -> None:
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
