"""One streamed call to a vendor's HTTP API, for cloud providers.

HTTP errors become typed errors by one ladder for every vendor (`VendorErrors`; each vendor
says only how its error bodies read and which of its own codes decide the error), and PCM
flows through.

Chunks keep even byte counts so no 16-bit sample is split between two of them, and
leaving the `async with` closes the upstream response, so a client that goes away stops
the vendor's work too.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from typing import Any, ClassVar

import httpx

from chorus_contracts import (
    ChorusError,
    InvalidRequest,
    ProviderMisconfigured,
    UnknownModel,
    UnknownVoice,
    error_for_status,
    retry_after_seconds,
)
from chorus_contracts.transport import transport_error

_MAX_ERROR_BODY = 16 * 1024
_MAX_MESSAGE = 500
_MAX_TEXT = 200
# The request field a vendor code's error is about, for the errors that name one.
_PARAM_OF: dict[type[ChorusError], str] = {UnknownVoice: "voice", UnknownModel: "model"}

ErrorMapper = Callable[[int, bytes, float | None], ChorusError]


@dataclass(frozen=True)
class VendorDetail:
    """What a vendor's error body says: its message, its own code, the field at fault."""

    message: str
    code: str | None = None
    param: str | None = None


class VendorErrors:
    """A vendor's error answers as typed errors: an `ErrorMapper` for `open_stream`.

    One ladder for every vendor. A vendor code listed in `codes` decides first (it says
    more than the status); a refused key (401/403) and a missing endpoint (404) are an
    operator's to fix; 400/422 is the client's input; any other status means what it means
    between any two Chorus services (`error_for_status`: 429 busy, 503 not ready, 408/504
    timeouts). Subclasses set `settings_prefix` and `codes`, and override `read` where
    their bodies are not FastAPI's. The API key never reaches a message.
    """

    settings_prefix: ClassVar[str]
    codes: ClassVar[Mapping[str, type[ChorusError]]] = {}

    def __init__(self, name: str, api_key: str | None) -> None:
        self.name = name
        self._api_key = api_key

    def __call__(self, status: int, body: bytes, retry_after: float | None) -> ChorusError:
        detail = self._detail(status, body)
        said = f"{self.name}: {detail.message}"
        decided = self.codes.get(detail.code or "")
        if decided is not None:
            return decided(said, param=_PARAM_OF.get(decided, detail.param))
        if status in (401, 403):
            reason = f", {detail.code}" if detail.code else ""
            return ProviderMisconfigured(
                f"{self.name}: the vendor refused this provider's API key "
                f"(HTTP {status}{reason}); check {self.settings_prefix}_API_KEY"
            )
        if status in (400, 422):
            return InvalidRequest(said, param=detail.param)
        if status == 404:
            return ProviderMisconfigured(
                f"{self.name}: the vendor has no such endpoint at this address "
                f"(HTTP 404: {detail.message}); check {self.settings_prefix}_BASE_URL"
            )
        return error_for_status(status, said, retry_after)

    def read(self, payload: Any) -> VendorDetail | None:
        """What a parsed JSON error body says; None when it is not in this vendor's shape."""
        return self._fastapi_detail(payload)

    def param_for(self, field: str) -> str:
        """The request field a client set, for a field of the vendor's own request body."""
        return field

    def _detail(self, status: int, body: bytes) -> VendorDetail:
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
        found = self.read(payload)
        if found is None:
            text = body[:_MAX_TEXT].decode("utf-8", errors="replace").strip()
            found = VendorDetail(text or f"HTTP {status} with an empty body")
        return replace(
            found,
            message=self._scrub(found.message)[:_MAX_MESSAGE],
            code=self._scrub(found.code) if found.code else None,
        )

    def _fastapi_detail(self, payload: Any) -> VendorDetail | None:
        """`{"detail": "..."}`, `{"detail": {"message", "status" or "code"}}` or FastAPI's
        422 list of problems, whose first names the field at fault."""
        detail = payload.get("detail") if isinstance(payload, dict) else None
        if isinstance(detail, str):
            return VendorDetail(detail)
        if isinstance(detail, dict):
            code = detail.get("status") or detail.get("code")
            code = code if isinstance(code, str) else None
            message = detail.get("message")
            if isinstance(message, str) or code:
                return VendorDetail(message if isinstance(message, str) else str(code), code)
        if isinstance(detail, list) and detail and isinstance(detail[0], dict):
            first = detail[0]
            loc = [str(part) for part in first.get("loc", []) if part not in ("body", "query")]
            where = ".".join(loc) or "request"
            message = f"{where}: {first.get('msg', 'invalid value')}"
            return VendorDetail(message, param=self.param_for(loc[0]) if loc else None)
        return None

    def _scrub(self, text: str) -> str:
        return text.replace(self._api_key, "***") if self._api_key else text


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
