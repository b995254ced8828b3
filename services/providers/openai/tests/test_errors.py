"""OpenAI's answers as typed errors: retried, the client's, or an operator's to fix."""

from __future__ import annotations

import json

import pytest

from chorus_contracts import (
    ChorusError,
    InvalidRequest,
    ProviderBusy,
    ProviderMisconfigured,
    ServiceUnavailable,
    UnknownModel,
    UpstreamError,
    UpstreamTimeout,
)
from chorus_openai.errors import OpenAIErrors

KEY = "sk-live-abcdefghijklmnop"


def body(message: str, code: str | None = None, param: str | None = None) -> bytes:
    error = {"message": message, "type": "invalid_request_error", "param": param, "code": code}
    return json.dumps({"error": error}).encode()


@pytest.mark.parametrize(
    ("status", "payload", "expected", "retryable"),
    [
        (401, body(f"Incorrect API key provided: {KEY}.", "invalid_api_key"),
         ProviderMisconfigured, False),
        (403, body("Project does not have access"), ProviderMisconfigured, False),
        (429, body("Rate limit reached", "rate_limit_exceeded"), ProviderBusy, True),
        (429, body("You exceeded your current quota", "insufficient_quota"),
         ProviderMisconfigured, False),
        (400, body("Invalid value for 'speed'", "invalid_value", "speed"), InvalidRequest, False),
        (404, body("The model `x` does not exist", "model_not_found"), UnknownModel, False),
        (404, b"<html>Not Found</html>", ProviderMisconfigured, False),
        (500, body("The server had an error"), UpstreamError, True),
        (503, b"", ServiceUnavailable, True),
        (504, b"", UpstreamTimeout, True),
        (408, b"", UpstreamTimeout, True),
    ],
)  # fmt: skip
def test_status_and_body_choose_the_error(
    status: int, payload: bytes, expected: type[ChorusError], retryable: bool
) -> None:
    error = OpenAIErrors(KEY)(status, payload, None)
    assert type(error) is expected
    assert error.retryable is retryable
    assert KEY not in error.message


def test_a_refused_key_says_what_to_fix() -> None:
    error = OpenAIErrors(KEY)(401, body("Incorrect API key provided: sk-li***mnop."), None)
    assert "refused" in error.message
    assert "CHORUS_OPENAI_API_KEY" in error.message
    assert "mnop" not in error.message


def test_rate_limits_carry_retry_after_and_bad_values_their_param() -> None:
    errors = OpenAIErrors(None)
    assert errors(429, body("slow down"), 7.0).retry_after == 7.0
    bad = errors(400, body("Invalid value for 'speed'", param="speed"), None)
    assert (bad.param, bad.message) == ("speed", "openai: Invalid value for 'speed'")


def test_the_key_is_scrubbed_from_forwarded_messages() -> None:
    error = OpenAIErrors(KEY)(400, body(f"bad header {KEY}"), None)
    assert error.message == "openai: bad header ***"


@pytest.mark.parametrize(
    ("status", "payload", "expected", "message", "param"),
    [
        (400, b'{"detail": "Unsupported model \'x\'. Use \'kokoro\'."}', InvalidRequest,
         "kokoro-fastapi: Unsupported model 'x'. Use 'kokoro'.", None),
        (422, json.dumps({"detail": [{"loc": ["body", "speed"], "msg": "too fast"}]}).encode(),
         InvalidRequest, "kokoro-fastapi: speed: too fast", "speed"),
        (400, b'{"detail": {"error": "validation_error", "message": "Voice not found"}}',
         InvalidRequest, "kokoro-fastapi: Voice not found", None),
        (500, b"Traceback (most recent call last): boom" + b"x" * 400, UpstreamError,
         "kokoro-fastapi: Traceback (most recent call last): boom" + "x" * 161, None),
        (502, b"", UpstreamError, "kokoro-fastapi: HTTP 502 with an empty body", None),
    ],
)  # fmt: skip
def test_a_compatible_servers_own_words_reach_the_client_under_the_providers_name(
    status: int, payload: bytes, expected: type[ChorusError], message: str, param: str | None
) -> None:
    error = OpenAIErrors(None, "kokoro-fastapi")(status, payload, None)
    assert type(error) is expected
    assert (error.message, error.param) == (message, param)
