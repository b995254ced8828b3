"""The account's voices from `GET /v1/voices`, read once at start-up."""

from __future__ import annotations

import httpx
from pydantic import BaseModel, ValidationError

from chorus_contracts import UpstreamError, VoiceInfo
from chorus_provider.vendor_http import ErrorMapper, open_stream


class _Language(BaseModel):
    language: str | None = None
    locale: str | None = None


class _Voice(BaseModel):
    voice_id: str
    name: str
    labels: dict[str, str | None] | None = None
    verified_languages: list[_Language] | None = None

    def info(self) -> VoiceInfo:
        labels = self.labels or {}
        languages = self.verified_languages or []
        first = languages[0] if languages else _Language()
        return VoiceInfo(
            id=self.voice_id,
            name=self.name,
            language=(first.locale or first.language or "").lower().replace("_", "-") or None,
            gender=labels.get("gender"),
        )


class _VoiceList(BaseModel):
    voices: list[_Voice]


async def list_voices(client: httpx.AsyncClient, to_error: ErrorMapper) -> list[VoiceInfo]:
    """Every voice the key can use; a refused key raises ProviderMisconfigured."""
    request = client.build_request("GET", "/v1/voices")
    async with open_stream(client, request, to_error) as response:
        body = await response.aread()
    try:
        return [voice.info() for voice in _VoiceList.model_validate_json(body).voices]
    except ValidationError:
        raise UpstreamError("ElevenLabs answered the voice list with an unexpected body") from None


def merge(listed: list[VoiceInfo], configured: list[VoiceInfo]) -> list[VoiceInfo]:
    """The listed voices, then the configured ones the listing did not mention."""
    known = {voice.id for voice in listed}
    return listed + [voice for voice in configured if voice.id not in known]
