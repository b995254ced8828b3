"""What a provider answers outside the contract is its failure, and a router with no provider
left stays ready and says so in OpenAI's shape."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import openai
import pytest
from openai import OpenAI

from support.processes import free_port
from support.stack import Stack, start_router
from support.tone_stack import control, health

StackFactory = Callable[..., Stack]


def _client(stack: Stack) -> OpenAI:
    return OpenAI(base_url=stack.base_url, api_key="local", max_retries=0, timeout=30)


def test_a_404_outside_the_contract_trips_the_breaker_and_the_fallback_serves(
    tone_stack: StackFactory,
) -> None:
    stack = tone_stack(retry={"attempts": 1}, breaker={"fail_max": 2, "reset_timeout_s": 30})
    control(stack.providers["a"], foreign_404_count=10)
    client = _client(stack)
    for _ in range(2):
        response = client.audio.speech.create(
            model="tone", voice="alloy", input="One two.", response_format="pcm"
        )
        assert response.response.headers["x-chorus-provider"] == "b"
    report = health(stack)["a"]
    assert report["breaker"] == "open"
    assert report["last_error"]["code"] == "provider_misconfigured"
    assert "HTTP 404 outside the contract" in report["last_error"]["message"]
    assert "Not Found" in report["last_error"]["message"]


def test_a_router_whose_only_provider_is_unreachable_is_ready_and_answers_503(
    tmp_path: Path,
) -> None:
    registry = tmp_path / "providers.yaml"
    nowhere = f"http://127.0.0.1:{free_port()}"
    Stack.write_registry_file(
        registry,
        [
            {
                "name": "gone",
                "url": nowhere,
                "models": ["tts-1"],
                "routing": {"retry": {"attempts": 1}, "breaker": {"fail_max": 1}},
            }
        ],
    )
    stack = Stack(start_router(registry, tmp_path), {}, registry)
    try:
        stack.router.wait_ready("/readyz")
        ready = httpx.get(f"{stack.router.url}/readyz", timeout=5).json()
        assert ready["checks"] == {"settings": "ok", "database": "ok", "registry": "ok"}
        assert ready["ready"] == []
        with pytest.raises(openai.APIStatusError) as caught:
            _client(stack).audio.speech.create(model="tts-1", voice="alloy", input="Hello.")
        assert caught.value.status_code == 503
        assert int(caught.value.response.headers["retry-after"]) >= 1
        error = caught.value.body
        assert isinstance(error, dict)
        assert error["code"] == "service_unavailable"
        assert "gone" in error["message"]
        models = _client(stack).models.list()
        assert [m.id for m in models.data] == ["tts-1"], "the rest of the API stays up"
    finally:
        stack.stop()
