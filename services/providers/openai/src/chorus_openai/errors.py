"""OpenAI's error answers mapped onto Chorus's taxonomy, once, for every upstream call.

A refused key is an operator's problem, not the client's and not worth retrying; the key
itself never reaches a message (OpenAI echoes part of it in its 401 text).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

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


@dataclass(frozen=True)
class _Detail:
    message: str
    param: str | None = None
    code: str | None = None


class OpenAIErrors:
    """Builds the typed error for an upstream status and body, scrubbed of the API key."""

    def __init__(self, api_key: str | None) -> None:
        self._api_key = api_key

    def __call__(self, status: int, body: bytes, retry_after: float | None) -> ChorusError:
        detail = self._detail(status, body)
        if status in (401, 403):
            return ProviderMisconfigured(
                f"the upstream refused this provider's API key (HTTP {status}); "
                "check CHORUS_OPENAI_API_KEY"
            )
        if status == 429:
            if detail.code == "insufficient_quota":
                return UpstreamError(f"the upstream account is out of quota: {detail.message}")
            return ProviderBusy(
                f"the upstream is rate-limiting: {detail.message}", retry_after=retry_after
            )
        if status in (400, 422):
            return InvalidRequest(detail.message, param=detail.param)
        if status == 404:
            if detail.code == "model_not_found":
                return UnknownModel(detail.message, param="model")
            return ProviderMisconfigured(
                "the upstream has no speech endpoint at this address (HTTP 404); "
                "check CHORUS_OPENAI_BASE_URL"
            )
        if status in (408, 504):
            return UpstreamTimeout(f"the upstream timed out (HTTP {status})")
        return UpstreamError(f"the upstream answered HTTP {status}: {detail.message}")

    def _detail(self, status: int, body: bytes) -> _Detail:
        try:
            error = json.loads(body)["error"]
            message = str(error["message"])
        except (ValueError, KeyError, TypeError):
            return _Detail(f"HTTP {status}")
        param = error.get("param")
        code = error.get("code")
        return _Detail(
            self._scrub(message)[:_MAX_MESSAGE],
            param if isinstance(param, str) else None,
            code if isinstance(code, str) else None,
        )

    def _scrub(self, message: str) -> str:
        if self._api_key:
            message = message.replace(self._api_key, "***")
        return message
