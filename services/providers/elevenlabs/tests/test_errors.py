"""ElevenLabs' answers as typed errors: retried, the client's, or an operator's to fix."""

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
    UnknownVoice,
    UpstreamError,
    UpstreamTimeout,
)
from chorus_elevenlabs.errors import ElevenLabsErrors, VoiceLimitReached

KEY = "xi-0123456789abcdef"


def detail(status: str, message: str) -> bytes:
    return json.dumps({"detail": {"status": status, "message": message}}).encode()


@pytest.mark.parametrize(
    ("status", "payload", "expected", "retryable"),
    [
        (401, detail("invalid_api_key", "Invalid API key"), ProviderMisconfigured, False),
        (403, detail("missing_permissions", "no text_to_speech"), ProviderMisconfigured, False),
        (401, detail("quota_exceeded", "This request exceeds your quota"),
         ProviderMisconfigured, False),
        (429, detail("too_many_concurrent_requests", "Too many"), ProviderBusy, True),
        (429, detail("system_busy", "Busy"), ProviderBusy, True),
        (404, detail("voice_not_found", "A voice with the voice_id x was not found."),
         UnknownVoice, False),
        (400, detail("voice_does_not_exist", "No voice x."), UnknownVoice, False),
        (400, detail("voice_limit_reached", "(10 / 10)"), VoiceLimitReached, True),
        (400, detail("model_not_found", "No model"), UnknownModel, False),
        (400, detail("max_character_limit_exceeded", "Too long"), InvalidRequest, False),
        (404, b"Not Found", ProviderMisconfigured, False),
        (500, detail("internal_server_error", "oops"), UpstreamError, True),
        (503, detail("service_unavailable", "down"), ServiceUnavailable, True),
        (504, b"", UpstreamTimeout, True),
        (408, b"", UpstreamTimeout, True),
    ],
)  # fmt: skip
def test_status_and_body_choose_the_error(
    status: int, payload: bytes, expected: type[ChorusError], retryable: bool
) -> None:
    error = ElevenLabsErrors(KEY)(status, payload, None)
    assert type(error) is expected
    assert error.retryable is retryable


def test_validation_errors_name_the_field_the_client_set() -> None:
    payload = {"detail": [{"loc": ["body", "voice_settings", "stability"], "msg": "too big"}]}
    error = ElevenLabsErrors(None)(422, json.dumps(payload).encode(), None)
    assert isinstance(error, InvalidRequest)
    assert (error.param, error.message) == (
        "extra_params",
        "elevenlabs: voice_settings.stability: too big",
    )
    text = {"detail": [{"loc": ["body", "text"], "msg": "too short"}]}
    assert ElevenLabsErrors(None)(422, json.dumps(text).encode(), None).param == "input"
    files = {"detail": [{"loc": ["body", "files"], "msg": "Field required"}]}
    assert ElevenLabsErrors(None)(422, json.dumps(files).encode(), None).param == "voice_reference"


def test_a_refused_key_says_what_to_fix_and_never_shows_it() -> None:
    error = ElevenLabsErrors(KEY)(401, detail("invalid_api_key", f"Invalid key {KEY}"), None)
    assert "CHORUS_ELEVENLABS_API_KEY" in error.message
    assert KEY not in error.message
    busy = ElevenLabsErrors(KEY)(429, detail("system_busy", f"busy {KEY}"), 4.0)
    assert (busy.retry_after, KEY in busy.message) == (4.0, False)
