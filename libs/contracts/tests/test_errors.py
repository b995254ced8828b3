from __future__ import annotations

import pytest

from chorus_contracts import (
    ChorusError,
    InvalidRequest,
    ProviderBusy,
    ProviderCannotServe,
    ProviderMisconfigured,
    ServiceUnavailable,
    UnknownVoice,
    UpstreamError,
    UpstreamTimeout,
    error_from_response,
)


def test_errors_round_trip_through_the_provider_body() -> None:
    sent = UnknownVoice("no voice 'x'", param="voice")
    received = error_from_response(404, sent.body().model_dump_json().encode())
    assert type(received) is UnknownVoice
    assert (received.message, received.param, received.retryable) == (
        "no voice 'x'",
        "voice",
        False,
    )


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (404, b'{"detail": "Not Found"}', ProviderMisconfigured),
        (401, b"<html><h1>401 Authorization Required</h1></html>", ProviderMisconfigured),
        (400, b"", ProviderMisconfigured),
        # Contract-shaped but with a code outside the taxonomy: not to be trusted either.
        (
            404,
            b'{"error": {"message": "x", "type": "y", "code": "not_found"}}',
            ProviderMisconfigured,
        ),
        (429, b"slow down", ProviderBusy),
        (502, b"<html>Bad Gateway</html>", UpstreamError),
        (503, b"", ServiceUnavailable),
        (504, b"gateway timeout", UpstreamTimeout),
        (408, b"request timeout", UpstreamTimeout),
        (599, b"?", UpstreamError),
    ],
)
def test_bodies_outside_the_contract_are_the_providers_failure(
    status: int, body: bytes, expected: type[ChorusError]
) -> None:
    error = error_from_response(status, body, source="provider piper")
    assert type(error) is expected
    assert not isinstance(error, InvalidRequest | UnknownVoice)
    assert error.message.startswith(f"provider piper answered HTTP {status} outside the contract")
    assert body[:40].decode() in error.message or "an empty body" in error.message


def test_a_refusal_by_one_provider_keeps_its_type_and_is_a_client_error() -> None:
    sent = ProviderCannotServe("this Piper model speaks en-us, not fr", param="lang_code")
    received = error_from_response(400, sent.body().model_dump_json().encode())
    assert type(received) is ProviderCannotServe
    assert (received.status, received.param) == (400, "lang_code")


def test_only_server_side_failures_are_retryable() -> None:
    assert not InvalidRequest("x").retryable
    assert ProviderBusy("x").retryable
    assert UpstreamError("x").retryable


def test_retry_after_header_is_whole_seconds_at_least_one() -> None:
    assert ProviderBusy("busy", retry_after=0.2).headers() == {"Retry-After": "1"}
    assert ProviderBusy("busy", retry_after=7.6).headers() == {"Retry-After": "8"}
    assert InvalidRequest("bad").headers() == {}
