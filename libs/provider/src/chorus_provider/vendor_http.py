"""One streamed call to a vendor's HTTP API, for cloud providers.

HTTP errors become typed errors and PCM flows through.

Chunks keep even byte counts so no 16-bit sample is split between two of them, and
leaving the `async with` closes the upstream response, so a client that goes away stops
the vendor's work too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import httpx

from chorus_contracts import ChorusError, retry_after_seconds
from chorus_contracts.transport import transport_error

_MAX_ERROR_BODY = 16 * 1024

ErrorMapper = Callable[[int, bytes, float | None], ChorusError]


@asynccontextmanager
async def open_stream(
    client: httpx.AsyncClient, request: httpx.Request, to_error: ErrorMapper
) -> AsyncIterator[httpx.Response]:
    """Send `request`; a non-2xx answer raises what `to_error` makes of it."""
    try:
        response = await client.send(request, stream=True)
    except httpx.HTTPError as exc:
        raise transport_error(exc, "the vendor") from None
    try:
        if not response.is_success:
            body = await _bounded_body(response)
            retry_after = retry_after_seconds(response.headers.get("Retry-After"))
            raise to_error(response.status_code, body, retry_after)
        yield response
    finally:
        await response.aclose()


async def pcm_chunks(response: httpx.Response) -> AsyncIterator[bytes]:
    """The body as it arrives, cut at even byte counts; a broken stream raises typed errors."""
    carry = b""
    try:
        async for chunk in response.aiter_bytes():
            data = carry + chunk
            cut = len(data) - len(data) % 2
            carry = data[cut:]
            if cut:
                yield data[:cut]
    except httpx.HTTPError as exc:
        raise transport_error(exc, "the vendor") from None


async def _bounded_body(response: httpx.Response) -> bytes:
    body = b""
    try:
        async for part in response.aiter_bytes():
            body += part
            if len(body) >= _MAX_ERROR_BODY:
                break
    except httpx.HTTPError:
        pass
    return body[:_MAX_ERROR_BODY]
