"""`/api/v1/admin/keys`: create, list and revoke API keys over HTTP (admin scope).

The same store as the `chorus-router-keys` CLI; a key is shown once, in the create answer.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field

from chorus_contracts import MAX_LEXICONS_PER_REQUEST, UnknownApiKey
from chorus_router.api.services import RouterServices, get_services
from chorus_router.audit import AuditAction, AuditEntry, audited
from chorus_router.identity import Scope
from chorus_router.lexicons.records import LEXICON_ID
from chorus_router.security.keys import ApiKey

router = APIRouter()
Services = Annotated[RouterServices, Depends(get_services)]
LexiconId = Annotated[str, Field(pattern=f"^{LEXICON_ID.pattern}$")]


class NewKey(BaseModel):
    user: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._@:-]+$")
    scopes: list[Scope] = Field(default=[Scope.SPEECH], min_length=1)
    name: str = Field(default="", max_length=200)
    # Lexicons applied to the key's speech requests that name none.
    lexicons: list[LexiconId] = Field(default_factory=list, max_length=MAX_LEXICONS_PER_REQUEST)


class KeyView(BaseModel):
    id: str
    user: str
    scopes: list[Scope]
    name: str
    created_at: float
    revoked_at: float | None
    lexicons: list[str]

    @classmethod
    def of(cls, record: ApiKey) -> KeyView:
        return cls(
            id=record.key_id,
            user=record.user_id,
            scopes=sorted(record.scopes),
            name=record.name,
            created_at=record.created_at,
            revoked_at=record.revoked_at,
            lexicons=list(record.lexicons),
        )


class CreatedKey(KeyView):
    key: str = Field(description="The key itself: shown only in this answer")


class KeyList(BaseModel):
    object: str = "list"
    data: list[KeyView]


class KeyRevoked(BaseModel):
    id: str
    revoked: bool = True


@router.post("/api/v1/admin/keys")
async def create_key(
    body: NewKey,
    services: Services,
    audit: Annotated[AuditEntry, audited(AuditAction.KEY_CREATE, scope=Scope.ADMIN)],
) -> CreatedKey:
    key, record = await asyncio.to_thread(
        services.keys.create, body.user, frozenset(body.scopes), body.name, tuple(body.lexicons)
    )
    audit.resource_id = record.key_id
    return CreatedKey(key=key, **KeyView.of(record).model_dump())


@router.get("/api/v1/admin/keys")
async def list_keys(
    services: Services,
    _: Annotated[AuditEntry, audited(AuditAction.KEY_LIST, scope=Scope.ADMIN)],
) -> KeyList:
    records = await asyncio.to_thread(services.keys.list)
    return KeyList(data=[KeyView.of(r) for r in records])


@router.delete("/api/v1/admin/keys/{key_id}")
async def revoke_key(
    key_id: Annotated[str, Path(pattern=r"^[0-9a-f]{12}$")],
    services: Services,
    _: Annotated[AuditEntry, audited(AuditAction.KEY_REVOKE, "key_id", scope=Scope.ADMIN)],
) -> KeyRevoked:
    """Revoke an active key; every replica refuses it from the next request on."""
    if not await asyncio.to_thread(services.keys.revoke, key_id):
        raise UnknownApiKey(f"No active API key with id '{key_id}'.", param="key_id")
    return KeyRevoked(id=key_id)
