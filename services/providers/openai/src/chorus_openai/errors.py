"""The upstream's error answers mapped onto Chorus's taxonomy, once, for every upstream call.

The upstream's own words reach the client, prefixed with this provider's name: OpenAI's
`error.message`, FastAPI's `detail` (what self-hosted compatible servers send), or the start
of a text body. A refused key is an operator's problem, not the client's and not worth
retrying; the key itself never reaches a message (OpenAI echoes part of it in its 401 text).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from chorus_contracts import (
    ChorusError,
    InvalidRequest,
    ProviderBusy,
    ProviderMisconfigured,
    UnknownModel,
    UpstreamError,
    UpstreamTimeout,
)

_MAX_MESSAGE = 500
_MAX_TEXT = 200


@dataclass(frozen=True)
class _Detail:
    message: str
    param: str | None = None
    code: str | None = None


class OpenAIErrors:
    """Builds the typed error for an upstream status and body, scrubbed of the API key."""

    def __init__(self, api_key: str | None, provider: str = "openai") -> None:
        self._api_key = api_key
        self._provider = provider

    def __call__(self, status: int, body: bytes, retry_after: float | None) -> ChorusError:
        detail = self._detail(status, body)
        said = f"{self._provider}: {detail.message}"
        if status in (401, 403):
            return ProviderMisconfigured(
                f"{self._provider}: the upstream refused this provider's API key "
                f"(HTTP {status}); check CHORUS_OPENAI_API_KEY"
            )
        if status == 429:
            if detail.code == "insufficient_quota":
                return UpstreamError(f"{self._provider}: out of quota: {detail.message}")
            return ProviderBusy(said, retry_after=retry_after)
        if status in (400, 422):
            return InvalidRequest(said, param=detail.param)
        if status == 404:
            if detail.code == "model_not_found":
                return UnknownModel(said, param="model")
            return ProviderMisconfigured(
                f"{self._provider}: the upstream has no speech endpoint at this address "
                f"(HTTP 404: {detail.message}); check CHORUS_OPENAI_BASE_URL"
            )
        if status in (408, 504):
            return UpstreamTimeout(said)
        return UpstreamError(said)

    def _detail(self, status: int, body: bytes) -> _Detail:
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
        found = _openai_error(payload) or _fastapi_detail(payload)
        if found is None:
            text = body[:_MAX_TEXT].decode("utf-8", errors="replace").strip()
            found = _Detail(text or f"HTTP {status} with an empty body")
        return _Detail(self._scrub(found.message)[:_MAX_MESSAGE], found.param, found.code)

    def _scrub(self, message: str) -> str:
        if self._api_key:
            message = message.replace(self._api_key, "***")
        return message


def _openai_error(payload: Any) -> _Detail | None:
    """`{"error": {"message", "param", "code"}}`."""
    error = payload.get("error") if isinstance(payload, dict) else None
    if not isinstance(error, dict) or not isinstance(error.get("message"), str):
        return None
    param, code = error.get("param"), error.get("code")
    return _Detail(
        error["message"],
        param if isinstance(param, str) else None,
        code if isinstance(code, str) else None,
    )


def _fastapi_detail(payload: Any) -> _Detail | None:
    """`{"detail": "..."}`, `{"detail": {"message": ...}}` or FastAPI's 422 list of problems."""
    detail = payload.get("detail") if isinstance(payload, dict) else None
    if isinstance(detail, str):
        return _Detail(detail)
    if isinstance(detail, dict) and isinstance(detail.get("message"), str):
        return _Detail(detail["message"])
    if isinstance(detail, list) and detail and isinstance(detail[0], dict):
        first = detail[0]
        where = [str(p) for p in first.get("loc", []) if p != "body"]
        param = where[0] if where else None
        message = str(first.get("msg", "invalid value"))
        return _Detail(f"{param}: {message}" if param else message, param)
    return None
