"""What a failed exchange with another service means, by the transport's exception."""

from __future__ import annotations

import httpx
import pytest

from chorus_contracts import ChorusError, ProviderUnreachable, UpstreamError, UpstreamTimeout
from chorus_contracts.transport import transport_error


@pytest.mark.parametrize(
    ("exc", "error", "says"),
    [
        (httpx.ConnectError("refused"), ProviderUnreachable, "is unreachable"),
        # aiohttp's transport (the router's) says so of a peer that hung up unanswered.
        (httpx.ConnectTimeout("disconnected"), ProviderUnreachable, "is unreachable"),
        (httpx.ReadTimeout("silent"), UpstreamTimeout, "did not answer in time"),
        (httpx.RemoteProtocolError("closed"), UpstreamError, "broke the connection"),
        (httpx.ReadError("payload not completed"), UpstreamError, "broke the connection"),
        (httpx.DecodingError("bad body"), UpstreamError, "answered badly"),
    ],
)
def test_each_transport_failure_is_its_error(
    exc: httpx.HTTPError, error: type[ChorusError], says: str
) -> None:
    found = transport_error(exc, "provider piper")
    assert type(found) is error
    assert found.message.startswith(f"provider piper {says} ({type(exc).__name__})")
