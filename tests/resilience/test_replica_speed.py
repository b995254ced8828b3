"""One provider, two real tone replicas behind the router, one taking twice as long per
sentence: the slow one reports twice the real-time factor and gets a fifth of the streams.
Round robin would give it half; least request counting streams alone a third (each replica
holds the same number, the fast one finishing twice as many), since with four clients
and two slots each a stream waits less queued on the fast replica than running on the slow."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from openai import OpenAI

from support.stack import Stack, start_router
from support.tone_stack import requests_seen, start_tone_provider

CLIENTS = 4
REQUESTS = 8
# Seconds of (sleeping) work per sentence; a four-word sentence is 0.4 s of audio.
WORK_S = {"fast": 0.15, "slow": 0.3}


@pytest.fixture
def fast_and_slow(tmp_path: Path) -> Iterator[Stack]:
    procs = {
        name: start_tone_provider(
            f"tone-{name}",
            tmp_path,
            env={
                "CHORUS_FAULTY_WORK_PER_SENTENCE_S": str(work),
                "CHORUS_FAULTY_MAX_CONCURRENCY": "2",
            },
        )
        for name, work in WORK_S.items()
    }
    registry = tmp_path / "providers.yaml"
    entry = {
        "name": "tone",
        "urls": [procs["fast"].url, procs["slow"].url],
        "models": ["tone"],
        "voices": {"alloy": "low"},
    }
    Stack.write_registry_file(registry, [entry])
    stack = Stack(start_router(registry, tmp_path), procs, registry)
    try:
        for proc in procs.values():
            proc.wait_ready()
        stack.router.wait_ready("/healthz")
        stack.wait_for_states({"tone": True})
        yield stack
    finally:
        stack.stop()


def _speak_in_turn(stack: Stack) -> None:
    client = OpenAI(base_url=stack.base_url, api_key="local", max_retries=0, timeout=60)
    for n in range(REQUESTS):
        audio = client.audio.speech.create(
            model="tone", voice="alloy", input=f"Request number {n} here.", response_format="pcm"
        )
        assert len(audio.content) > 1000


def _real_time_factors(stack: Stack) -> dict[str, float | None]:
    body = httpx.get(f"{stack.router.url}/api/v1/audio/health", timeout=5).json()
    (provider,) = body["providers"]
    return {r["url"]: r["real_time_factor"] for r in provider["replicas"]}


def test_the_slow_replica_gets_fewer_streams(fast_and_slow: Stack) -> None:
    fast, slow = fast_and_slow.providers["fast"], fast_and_slow.providers["slow"]
    # Requests one at a time first, so both replicas have served and reported their pace.
    for _ in range(2):
        _speak_in_turn(fast_and_slow)
    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(lambda _: _speak_in_turn(fast_and_slow), range(CLIENTS)))
    on_fast, on_slow = requests_seen(fast), requests_seen(slow)
    assert on_fast + on_slow == (CLIENTS + 2) * REQUESTS
    assert on_slow < 0.3 * (on_fast + on_slow), f"fast {on_fast}, slow {on_slow}"
    factors = _real_time_factors(fast_and_slow)
    fast_factor, slow_factor = factors[fast.url], factors[slow.url]
    assert fast_factor is not None
    assert slow_factor is not None
    assert slow_factor > 1.5 * fast_factor, "the slow replica says it is slow"
