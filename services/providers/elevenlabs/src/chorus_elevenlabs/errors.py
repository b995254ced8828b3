"""ElevenLabs' error answers mapped onto Chorus's taxonomy, once, for every upstream call.

ElevenLabs answers `{"detail": {"status": "...", "message": "..."}}`, or FastAPI's
`{"detail": [{"loc": [...], "msg": "..."}]}` for a body it cannot validate. A 401 means a
refused key, except `quota_exceeded`, which another provider can absorb. A 400
`voice_limit_reached` means the account holds all the cloned voices its plan allows.
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
    UnknownVoice,
    UpstreamError,
    UpstreamTimeout,
)

_MAX_MESSAGE = 500
# ElevenLabs body fields -> the request field a Chorus client set them with.
_PARAMS = {
    "text": "input",
    "voice_id": "voice",
    "language_code": "lang_code",
    "files": "voice_reference",
}
# Both spellings of "no such voice" that ElevenLabs uses.
_NO_VOICE = ("voice_not_found", "voice_does_not_exist")


class VoiceLimitReached(UpstreamError):
    """The account has no room for another cloned voice; deleting one makes room."""


@dataclass(frozen=True)
class _Detail:
    message: str
    code: str = ""
    param: str | None = None


class ElevenLabsErrors:
    """Builds the typed error for an upstream status and body, scrubbed of the API key."""

    def __init__(self, api_key: str | None) -> None:
        self._api_key = api_key

    def __call__(self, status: int, body: bytes, retry_after: float | None) -> ChorusError:
        detail = self._detail(status, body)
        if status == 401 and detail.code == "quota_exceeded":
            return UpstreamError(f"the ElevenLabs account is out of quota: {detail.message}")
        if status in (401, 403):
            return ProviderMisconfigured(
                f"ElevenLabs refused this provider's API key (HTTP {status}, "
                f"{detail.code or 'no reason given'}); check CHORUS_ELEVENLABS_API_KEY"
            )
        if detail.code in _NO_VOICE:
            return UnknownVoice(detail.message, param="voice")
        if detail.code == "voice_limit_reached":
            return VoiceLimitReached(f"the ElevenLabs account is full: {detail.message}")
        if detail.code == "model_not_found":
            return UnknownModel(detail.message, param="model")
        if status == 429:
            return ProviderBusy(f"ElevenLabs is busy: {detail.message}", retry_after=retry_after)
        if status in (400, 422):
            return InvalidRequest(detail.message, param=detail.param)
        if status == 404:
            return ProviderMisconfigured(
                "ElevenLabs has no such endpoint (HTTP 404); check CHORUS_ELEVENLABS_BASE_URL"
            )
        if status in (408, 504):
            return UpstreamTimeout(f"ElevenLabs timed out (HTTP {status})")
        return UpstreamError(f"ElevenLabs answered HTTP {status}: {detail.message}")

    def _detail(self, status: int, body: bytes) -> _Detail:
        try:
            detail = json.loads(body)["detail"]
        except (ValueError, KeyError, TypeError):
            return _Detail(f"HTTP {status}")
        if isinstance(detail, dict):
            code = detail.get("status") or detail.get("code") or ""
            message = str(detail.get("message") or code or f"HTTP {status}")
            return _Detail(self._clean(message), str(code))
        if isinstance(detail, list) and detail and isinstance(detail[0], dict):
            return self._validation(detail[0])
        return _Detail(self._clean(str(detail)))

    def _validation(self, first: dict[str, Any]) -> _Detail:
        loc = [str(part) for part in first.get("loc", []) if part not in ("body", "query")]
        field = loc[0] if loc else ""
        param = _PARAMS.get(field, "extra_params" if field else None)
        where = ".".join(loc) or "request"
        return _Detail(self._clean(f"{where}: {first.get('msg', 'invalid value')}"), "", param)

    def _clean(self, message: str) -> str:
        if self._api_key:
            message = message.replace(self._api_key, "***")
        return message[:_MAX_MESSAGE]
