"""Least request against round robin over two Kokoro replicas, one at half speed.

Two routers stand in front of the same two replicas, one balancing by least request (the
default), one in turn; each round runs `CLIENTS` clients through one router, then through
the other (the order alternating), never both at once, so load on the machine slows both
alike. A client speaks the short sentence `REQUESTS` times, one streamed request after another;
the figure is the time to the first audio byte. Streams last seconds, which is what round
robin gets wrong: the slow replica keeps its share and its queue grows.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from bench.measure import percentile, stream_post
from bench.report import ROOT, Table
from bench.texts import SHORT, words
from support.processes import ServiceProcess, free_port, wait_until
from support.stack import Stack, start_provider, start_router
from support.tone_stack import requests_seen

CLIENTS = 8
REQUESTS = 3
ROUNDS = 3
POLICIES = ("least-request", "round-robin")
_KOKORO = {
    # One intra-op thread per replica: two replicas share this machine's cores.
    "CHORUS_KOKORO_THREADS": "1",
    # Eight clients on four slots queue; a slow queue must show in the figures, not as 429s.
    "CHORUS_KOKORO_QUEUE_TIMEOUT_S": "300",
}
# On a busy machine a queued stream's first audio can take minutes; it must show in the
# figures, not end in a timeout and a retry.
_WAIT_S = 300


def least_request_vs_round_robin(
    logs: Path, rounds: int = ROUNDS, requests: int = REQUESTS
) -> Table:
    fast = start_provider("kokoro", logs, name="kokoro-fast", env=_KOKORO)
    slow = _start_half_speed(logs)
    registry = logs / "balance-providers.yaml"
    Stack.write_registry_file(
        registry,
        [
            {
                "name": "kokoro",
                "urls": [fast.url, slow.url],
                "models": ["kokoro"],
                "routing": {"first_byte_timeout_s": _WAIT_S, "request_timeout_s": 2 * _WAIT_S},
            }
        ],
    )
    routers = {
        policy: start_router(
            registry,
            logs,
            {
                "CHORUS_ROUTER_REPLICA_BALANCING": policy,
                "CHORUS_ROUTER_ARTIFACTS__CACHE__ENABLED": "false",
                "CHORUS_ROUTER_PROVIDER_POLL_INTERVAL_S": "2",
                "CHORUS_ROUTER_REQUEST_DEADLINE_S": str(_WAIT_S),
            },
        )
        for policy in POLICIES
    }
    first_audio: dict[str, list[float]] = {policy: [] for policy in POLICIES}
    to_slow: dict[str, int] = dict.fromkeys(POLICIES, 0)
    try:
        for proc in (fast, slow, *routers.values()):
            proc.wait_ready("/readyz" if proc in (fast, slow) else "/healthz", timeout_s=120)
        for router in routers.values():
            _wait_until_routed(router)
            _speak(router)  # warm: each replica's first run is slower
        for round_ in range(rounds):
            order = POLICIES if round_ % 2 == 0 else POLICIES[::-1]
            for policy in order:
                before = requests_seen(slow)
                first_audio[policy] += _clients(routers[policy], requests)
                to_slow[policy] += requests_seen(slow) - before
    finally:
        for proc in (*routers.values(), fast, slow):
            proc.stop()
    table = Table(
        "balance",
        f"Two Kokoro replicas, one at half speed; {CLIENTS} clients x {requests} streamed "
        f"requests of {words(SHORT)} words, {rounds} interleaved rounds: time to first audio",
        "make bench BENCH=balance",
        ["routing", "first audio p50 s", "p95 s", "on the slow replica"],
    )
    for policy in POLICIES:
        times = first_audio[policy]
        share = to_slow[policy] / len(times)
        table.add(policy, percentile(times, 50), percentile(times, 95), f"{share:.0%}")
    ratio = percentile(first_audio["least-request"], 95) / percentile(
        first_audio["round-robin"], 95
    )
    table.note(f"First-audio p95, least request / round robin: {ratio:.2f} (target at most 0.7).")
    table.note(
        "The slow twin is bench/half_speed.py: the real engine, waiting after each piece as "
        "long as the piece took (no CPU quota can be set here)."
    )
    return table


def _start_half_speed(logs: Path) -> ServiceProcess:
    port = free_port()
    env = {
        **_KOKORO,
        "CHORUS_KOKORO_NAME": "kokoro-slow",
        "CHORUS_KOKORO_PORT": str(port),
        "PYTHONPATH": str(ROOT),
    }
    return ServiceProcess("kokoro-slow", "bench.half_speed", port, env, logs).start()


def _wait_until_routed(router: ServiceProcess) -> None:
    """Until the router has polled both replicas ready (its /healthz does not wait for it)."""

    def ready() -> bool:
        body = httpx.get(f"{router.url}/api/v1/audio/health", timeout=5).json()
        return all(r["ready"] and r["max_concurrency"] for r in body["providers"][0]["replicas"])

    if not wait_until(ready, 60, 0.2):
        raise TimeoutError("the router did not see both Kokoro replicas ready")


def _speak(router: ServiceProcess) -> float:
    body = {
        "model": "kokoro",
        "voice": "jf_alpha",
        "input": SHORT,
        "response_format": "pcm",
        "stream": True,
    }
    return stream_post(f"{router.url}/v1/audio/speech", body, 48_000).first_byte_s


def _clients(router: ServiceProcess, requests: int) -> list[float]:
    def client() -> list[float]:
        return [_speak(router) for _ in range(requests)]

    with ThreadPoolExecutor(CLIENTS) as pool:
        return [t for times in pool.map(lambda _: client(), range(CLIENTS)) for t in times]
