"""The vendor ladder: a vendor's status means what the same status means between Chorus
services, except where only a vendor can be read (its key, its endpoint, the client's input)."""

from __future__ import annotations

import json

import pytest

from chorus_contracts import (
    ChorusError,
    InvalidRequest,
    ProviderMisconfigured,
    UnknownVoice,
    error_from_response,
)
from chorus_provider.vendor_http import VendorErrors

KEY = "vk-secret-0123456789"


class Vendor(VendorErrors):
    settings_prefix = "CHORUS_VENDOR"
    codes = {"no_voice": UnknownVoice}


def answer(status: int, body: bytes = b"", retry_after: float | None = None) -> ChorusError:
    return Vendor("vendor", KEY)(status, body, retry_after)


@pytest.mark.parametrize("status", [402, 405, 408, 409, 413, 429, 500, 502, 503, 504, 520])
def test_a_status_means_what_it_means_from_a_provider(status: int) -> None:
    from_provider = error_from_response(status, b"", 3.0)
    from_vendor = answer(status, b"", 3.0)
    assert type(from_vendor) is type(from_provider)
    assert from_vendor.retry_after == from_provider.retry_after


@pytest.mark.parametrize(
    ("status", "expected", "says"),
    [
        (401, ProviderMisconfigured, "CHORUS_VENDOR_API_KEY"),
        (403, ProviderMisconfigured, "CHORUS_VENDOR_API_KEY"),
        (404, ProviderMisconfigured, "CHORUS_VENDOR_BASE_URL"),
        (400, InvalidRequest, "vendor: "),
        (422, InvalidRequest, "vendor: "),
    ],
)
def test_what_only_a_vendor_says_is_read_as_such(
    status: int, expected: type[ChorusError], says: str
) -> None:
    error = answer(status, json.dumps({"detail": f"no good {KEY}"}).encode())
    assert type(error) is expected
    assert says in error.message
    assert KEY not in error.message


def test_a_vendor_code_decides_over_the_status() -> None:
    body = json.dumps({"detail": {"status": "no_voice", "message": "who?"}}).encode()
    error = answer(400, body)
    assert type(error) is UnknownVoice
    assert (error.message, error.param) == ("vendor: who?", "voice")


def test_a_validation_error_names_the_field_and_a_text_body_is_quoted() -> None:
    problems = {"detail": [{"loc": ["body", "speed"], "msg": "too fast"}]}
    error = answer(422, json.dumps(problems).encode())
    assert (error.message, error.param) == ("vendor: speed: too fast", "speed")
    assert answer(500, b"<html>oops</html>").message == "vendor: <html>oops</html>"
    assert answer(502).message == "vendor: HTTP 502 with an empty body"
