"""Every kind of bad input gets a 4xx in OpenAI's error shape, never a 500."""

from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest
from openai import OpenAI

from support.stack import Stack

pytestmark = pytest.mark.e2e

GOOD: dict[str, Any] = {"model": "espeak", "voice": "alloy", "input": "Hello."}


@pytest.mark.parametrize(
    ("change", "status", "param", "words"),
    [
        ({"input": ""}, 400, "input", "text"),
        ({"input": " \n\t "}, 400, "input", "text"),
        ({"input": "a" * 4097}, 400, "input", "maximum is 4096"),
        ({"model": "no-such-model"}, 404, "model", "does not exist"),
        ({"voice": "no-such-voice"}, 404, "voice", "not available"),
        ({"speed": 4.5}, 400, "speed", "speed"),
        ({"speed": 0.1}, 400, "speed", "speed"),
        ({"response_format": "wma"}, 400, "response_format", "response_format"),
        ({"stream_format": "chunks"}, 400, "stream_format", "stream_format"),
        ({"voices": "alloy"}, 400, "voices", "Unrecognized"),
        ({"input": None}, 400, "input", "input"),
    ],
)
def test_bad_field_gets_openai_error(
    local_stack: Stack, change: dict[str, Any], status: int, param: str, words: str
) -> None:
    body = {**GOOD, **change}
    response = httpx.post(f"{local_stack.base_url}/audio/speech", json=body, timeout=30)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param
    assert words in error["message"]


def test_missing_field(local_stack: Stack) -> None:
    response = httpx.post(
        f"{local_stack.base_url}/audio/speech", json={"model": "espeak", "input": "x"}, timeout=10
    )
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "voice"


def test_malformed_json(local_stack: Stack) -> None:
    response = httpx.post(
        f"{local_stack.base_url}/audio/speech",
        content=b'{"model": "espeak", "input": ',
        headers={"content-type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["error"]["message"]


def test_oversized_body_is_refused_before_reading(local_stack: Stack) -> None:
    response = httpx.post(
        f"{local_stack.base_url}/audio/speech",
        content=b"x" * (2 * 1024 * 1024),
        headers={"content-type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_sdk_raises_typed_errors(client: OpenAI) -> None:
    with pytest.raises(openai.NotFoundError, match="does not exist"):
        client.audio.speech.create(model="nope", voice="alloy", input="Hi.")
    with pytest.raises(openai.BadRequestError, match="speed"):
        client.audio.speech.create(model="espeak", voice="alloy", input="Hi.", speed=9)


def test_unknown_path_is_json_404(local_stack: Stack) -> None:
    response = httpx.get(f"{local_stack.router.url}/v1/nothing-here", timeout=5)
    assert response.status_code == 404
    assert "error" in response.json()
