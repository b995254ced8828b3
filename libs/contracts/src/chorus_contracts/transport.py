"""The one table from httpx's transport exceptions to the error taxonomy.

Used wherever a Chorus service calls another over HTTP (the router calling providers, a
cloud provider calling its vendor), so a refused connection, a silent peer and a broken
stream mean the same everywhere. Needs the `http` extra (httpx).
"""

from __future__ import annotations

import httpx

from chorus_contracts.errors import ChorusError, ProviderUnreachable, UpstreamError, UpstreamTimeout

# First match wins: ConnectTimeout is a timeout, but no connection was ever made.
_TABLE: tuple[tuple[type[httpx.HTTPError], type[ChorusError], str], ...] = (
    (httpx.ConnectError, ProviderUnreachable, "is unreachable"),
    (httpx.ConnectTimeout, ProviderUnreachable, "is unreachable"),
    (httpx.TimeoutException, UpstreamTimeout, "did not answer in time"),
    (httpx.RemoteProtocolError, UpstreamError, "broke the connection"),
    (httpx.ReadError, UpstreamError, "broke the connection"),
    (httpx.WriteError, UpstreamError, "broke the connection"),
)


def transport_error(exc: httpx.HTTPError, peer: str) -> ChorusError:
    """What a failed exchange with `peer` (e.g. "provider piper", "the vendor") means."""
    for kind, error, says in _TABLE:
        if isinstance(exc, kind):
            return error(f"{peer} {says} ({type(exc).__name__})")
    return UpstreamError(f"{peer} answered badly ({type(exc).__name__})")
