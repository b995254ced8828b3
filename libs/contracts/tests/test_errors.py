from __future__ import annotations

import pytest

from chorus_contracts import (
    ClientError,
    InvalidRequest,
    ProviderBusy,
    UnknownVoice,
    UpstreamError,
    UpstreamTimeout,
    error_from_response,
)


def test_errors_round_trip_through_the_provider_body() -> None:
    sent = UnknownVoice("no voice 'x'", param="voice")
    received = error_from_response(404, sent.body().model_dump())
    assert type(received) is UnknownVoice
    assert (received.message, received.param, received.retryable) == (
        "no voice 'x'",
        "voice",
        False,
    )


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (400, InvalidRequest),
        (422, InvalidRequest),
        (429, ProviderBusy),
        (502, UpstreamError),
        (504, UpstreamTimeout),
        (418, ClientError),
        (599, UpstreamError),
    ],
)
def test_bodies_we_do_not_know_fall_back_on_status(status: int, expected: type) -> None:
    assert type(error_from_response(status, "<html>oops</html>")) is expected


def test_only_server_side_failures_are_retryable() -> None:
    assert not InvalidRequest("x").retryable
    assert ProviderBusy("x").retryable
    assert UpstreamError("x").retryable


def test_retry_after_header_is_whole_seconds_at_least_one() -> None:
    assert ProviderBusy("busy", retry_after=0.2).headers() == {"Retry-After": "1"}
    assert ProviderBusy("busy", retry_after=7.6).headers() == {"Retry-After": "8"}
    assert InvalidRequest("bad").headers() == {}
