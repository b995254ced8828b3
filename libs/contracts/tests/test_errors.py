from __future__ import annotations

import pytest

from chorus_contracts import (
    ChorusError,
    ClientError,
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
from chorus_contracts.errors import taxonomy


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


@pytest.mark.parametrize("cls", taxonomy(), ids=lambda cls: cls.__name__)
def test_every_error_type_survives_the_trip_through_its_body(cls: type[ChorusError]) -> None:
    """What a provider answers with, the router rebuilds as the same kind of error."""
    sent = cls("it went wrong", param="input", retry_after=3)
    heard = error_from_response(sent.status, sent.body().model_dump_json().encode(), 3)
    assert (heard.status, heard.code, heard.type) == (cls.status, cls.code, cls.type)
    assert heard.retryable == cls.retryable
    assert heard.counts_against_breaker == cls.counts_against_breaker
    assert heard.message == "it went wrong"


def test_every_code_names_one_error_type() -> None:
    named: dict[str, set[str]] = {}
    for cls in taxonomy():
        if cls.__subclasses__() and any(sub.code == cls.code for sub in cls.__subclasses__()):
            continue  # a base whose code a concrete subclass carries (ClientError)
        named.setdefault(cls.code, set()).add(cls.__name__)
    assert {code: names for code, names in named.items() if len(names) > 1} == {}


def test_client_errors_never_count_against_a_provider_nor_retry_it() -> None:
    for cls in taxonomy():
        if issubclass(cls, ClientError):
            assert not cls.counts_against_breaker, cls.__name__
            assert not cls.retry_same_provider, cls.__name__
