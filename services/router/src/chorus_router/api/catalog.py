"""Management views of the providers and their voices under `/api/v1/audio/`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from chorus_contracts import Capabilities, language_matches
from chorus_router.api.services import RouterServices, get_services
from chorus_router.identity import Scope
from chorus_router.security import require

router = APIRouter(prefix="/api/v1/audio")


class ProviderView(BaseModel):
    name: str
    url: str
    enabled: bool
    ready: bool
    models: list[str]
    priority: int
    voice_aliases: dict[str, str]
    last_error: str | None
    capabilities: Capabilities | None


class ProviderList(BaseModel):
    providers: list[ProviderView]


class CatalogVoice(BaseModel):
    provider: str
    # False while the provider is down: its voices stay listed, from its last capabilities.
    provider_ready: bool
    id: str
    name: str
    language: str | None
    gender: str | None
    aliases: list[str]


class VoiceCatalog(BaseModel):
    voices: list[CatalogVoice]


@router.get("/providers", dependencies=[Depends(require(Scope.ADMIN))])
async def list_providers(
    services: Annotated[RouterServices, Depends(get_services)],
) -> ProviderList:
    return ProviderList(
        providers=[
            ProviderView(
                name=h.name,
                url=h.entry.url,
                enabled=h.entry.enabled,
                ready=h.ready,
                models=h.entry.models,
                priority=h.entry.routing.priority,
                voice_aliases=h.entry.voices,
                last_error=h.last_error,
                capabilities=h.capabilities,
            )
            for h in services.pool.all()
        ]
    )


@router.get("/voices/catalog", dependencies=[Depends(require(Scope.SPEECH))])
async def voice_catalog(
    services: Annotated[RouterServices, Depends(get_services)],
    provider: Annotated[str | None, Query(max_length=63)] = None,
    lang: Annotated[str | None, Query(max_length=32)] = None,
) -> VoiceCatalog:
    """Voices of ready providers; `lang=en` matches en, en-us, en-gb..."""
    voices = []
    for handle in services.pool.enabled():
        if handle.capabilities is None or (provider and handle.name != provider):
            continue
        aliases: dict[str, list[str]] = {}
        for alias, target in handle.entry.voices.items():
            aliases.setdefault(target, []).append(alias)
        for voice in handle.capabilities.voices:
            if lang and not (voice.language and language_matches(voice.language, lang)):
                continue
            voices.append(
                CatalogVoice(
                    provider=handle.name,
                    provider_ready=handle.ready,
                    id=voice.id,
                    name=voice.name,
                    language=voice.language,
                    gender=voice.gender,
                    aliases=sorted(aliases.get(voice.id, [])),
                )
            )
    return VoiceCatalog(voices=voices)
