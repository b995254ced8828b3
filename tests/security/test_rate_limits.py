"""Rate limits on real routers: per key, in memory, and shared by two routers on one Redis."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from support.processes import ServiceProcess
from support.secure_stack import MODEL, Keys, api_key_env, openai_client, start_secure_router

pytestmark = pytest.mark.e2e

LIMIT = 3


def _limited_env(database_url: str, **extra: str) -> dict[str, str]:
    return api_key_env(
        database_url, CHORUS_ROUTER_SECURITY__RATE_LIMITS__SYNTHESIS_PER_MINUTE=str(LIMIT), **extra
    )


def _speak(router: ServiceProcess, key: str, text: str = "Hi.") -> None:
    openai_client(router, key).audio.speech.create(
        model=MODEL, voice="alloy", input=text, response_format="pcm"
    )


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    return Keys.sqlite(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="module")
def router(registry: Path, security_logs: Path, keys: Keys) -> Iterator[ServiceProcess]:
    env = _limited_env(
        keys.database_url, CHORUS_ROUTER_SECURITY__RATE_LIMITS__CHARACTERS_PER_MINUTE="100"
    )
    proc = start_secure_router(registry, security_logs, env)
    yield proc
    proc.stop()


def test_the_request_over_the_limit_gets_429_and_other_keys_go_on(
    router: ServiceProcess, keys: Keys
) -> None:
    busy, quiet = keys.create("alice", "speech"), keys.create("bob", "speech")
    for _ in range(LIMIT):
        _speak(router, busy)

    with pytest.raises(openai.RateLimitError) as caught:
        _speak(router, busy)
    _speak(router, quiet)

    error = caught.value.response.json()["error"]
    assert error["code"] == "rate_limit_exceeded"
    assert f"{LIMIT} requests per minute" in error["message"]
    assert 1 <= int(caught.value.response.headers["Retry-After"]) <= 60


def test_characters_per_minute_are_limited_too(router: ServiceProcess, keys: Keys) -> None:
    key = keys.create("carol", "speech")
    _speak(router, key, "A sentence of sixty characters or so, to use up the budget.")

    with pytest.raises(openai.RateLimitError, match="100 characters per minute"):
        _speak(router, key, "Another sentence of sixty characters, over the budget now.")


def test_two_routers_on_one_redis_share_the_limit(
    registry: Path, security_logs: Path, keys: Keys, redis_url: str
) -> None:
    env = _limited_env(
        keys.database_url, CHORUS_ROUTER_SECURITY__RATE_LIMITS__STORAGE_URL=redis_url
    )
    routers = [start_secure_router(registry, security_logs, env) for _ in range(2)]
    key = keys.create("dana", "speech")
    try:
        for i in range(LIMIT):
            _speak(routers[i % 2], key)
        for router in routers:
            with pytest.raises(openai.RateLimitError):
                _speak(router, key)
    finally:
        for router in routers:
            router.stop()
