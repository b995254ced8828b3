"""Two router replicas on one Redis: a provider's open breaker is open for both."""

from __future__ import annotations

from pathlib import Path

from support.processes import wait_until
from support.redis_server import redis_url as redis_url
from support.stack import Stack, start_router
from support.tone_stack import (
    control,
    health,
    requests_seen,
    speak,
    start_tone_provider,
    tone_entries,
)


def test_a_breaker_opened_on_one_router_is_open_on_the_other(
    tmp_path: Path, redis_url: str
) -> None:
    a, b = start_tone_provider("a", tmp_path), start_tone_provider("b", tmp_path)
    registry = tmp_path / "providers.yaml"
    Stack.write_registry_file(
        registry,
        tone_entries(a, b, retry={"attempts": 1}, breaker={"fail_max": 1, "reset_timeout_s": 60}),
    )
    env = {"CHORUS_ROUTER_SECURITY__RATE_LIMITS__STORAGE_URL": redis_url}
    one = Stack(start_router(registry, tmp_path, env), {"a": a, "b": b}, registry)
    two = Stack(start_router(registry, tmp_path, env), {}, registry)
    try:
        for proc in (a, b):
            proc.wait_ready()
        for stack in (one, two):
            stack.router.wait_ready("/readyz")
            stack.wait_for_states({"a": True, "b": True})
        control(a, fail_status=502, fail_count=100)
        assert speak(one).headers["x-chorus-provider"] == "b"
        assert health(one)["a"]["breaker"] == "open"
        # Shared within a second (two sync intervals of 0.25 s); generous here for slow CI.
        assert wait_until(lambda: health(two)["a"]["breaker"] == "open", timeout_s=10)
        seen = requests_seen(a)
        assert speak(two).headers["x-chorus-provider"] == "b"
        assert requests_seen(a) == seen, "the second router did not try the open provider"
    finally:
        for proc in (one.router, two.router, a, b):
            proc.stop()
