"""`GET /api/v1/admin/audit`: the audit log, filtered and a page at a time (admin scope)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from chorus_router.api.services import RouterServices, get_services
from chorus_router.audit.events import AuditAction, AuditEvent
from chorus_router.audit.recording import AuditEntry, audited
from chorus_router.audit.store import AuditQuery
from chorus_router.identity import Scope

router = APIRouter()


class AuditList(BaseModel):
    object: str = "list"
    data: list[AuditEvent]
    first_id: str | None
    last_id: str | None
    has_more: bool


@router.get("/api/v1/admin/audit")
async def list_audit_events(
    services: Annotated[RouterServices, Depends(get_services)],
    _: Annotated[AuditEntry, audited(AuditAction.AUDIT_READ, scope=Scope.ADMIN)],
    user: Annotated[str | None, Query(max_length=200)] = None,
    action: AuditAction | None = None,
    since: Annotated[datetime | None, Query(description="ISO 8601 or Unix seconds")] = None,
    until: Annotated[datetime | None, Query(description="ISO 8601 or Unix seconds")] = None,
    after: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> AuditList:
    """Events newest first; pass the last id of a page as `after` for the next one."""
    query = AuditQuery(
        actor=user,
        action=action,
        since=_unix(since),
        until=_unix(until),
        after=after,
        limit=limit,
    )
    page = await asyncio.to_thread(services.audit.store.page, query)
    data = page.events
    return AuditList(
        data=data,
        first_id=data[0].id if data else None,
        last_id=data[-1].id if data else None,
        has_more=page.has_more,
    )


def _unix(moment: datetime | None) -> float | None:
    """Unix seconds; a time given without an offset is UTC."""
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
