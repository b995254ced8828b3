"""Recording audit events: a trail that writes the table and an `audit` log line, and the
`audited(action)` dependency that records a handler's operation with the outcome it had."""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, Request
from opentelemetry import trace

from chorus_router.audit.events import AuditAction, AuditEvent, outcome_of
from chorus_router.audit.store import AuditStore, new_event_id
from chorus_router.identity import Scope, current_principal
from chorus_router.security.scopes import check_scope

log = logging.getLogger("chorus.router.audit")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class AuditTrail:
    """Appends events to the store and mirrors each as one structured log line."""

    def __init__(self, store: AuditStore) -> None:
        self.store = store

    def record(
        self,
        actor: str,
        action: AuditAction,
        resource_id: str | None,
        *,
        request_id: str,
        error: BaseException | None = None,
    ) -> AuditEvent:
        """Store the event and log it; blocks on the database (async callers use a thread,
        which carries the trace context along)."""
        outcome, status = outcome_of(error)
        context = trace.get_current_span().get_span_context()
        at = time.time()
        event = AuditEvent(
            id=new_event_id(at),
            created_at=at,
            actor=actor,
            action=action,
            resource_id=resource_id,
            outcome=outcome,
            status=status,
            request_id=request_id,
            trace_id=format(context.trace_id, "032x") if context.is_valid else None,
        )
        self.store.append(event)
        log.info(
            "audit",
            extra={
                "audit_id": event.id,
                "actor": actor,
                "action": str(action),
                "resource_id": resource_id,
                "outcome": str(outcome),
                "status": status,
                "request_id": request_id,
            },
        )
        return event


def request_id_of(request: Request) -> str:
    """The caller's X-Request-Id when it is a plain token, else a new one."""
    given = request.headers.get("x-request-id", "")
    return given if _REQUEST_ID.match(given) else uuid.uuid4().hex


def trail_of(request: Request) -> AuditTrail:
    trail: AuditTrail = request.app.state.services.audit
    return trail


@dataclass
class AuditEntry:
    """The event a handler is performing; it names the resource once it knows it."""

    resource_id: str | None


def audited(
    action: AuditAction, resource_param: str | None = None, *, scope: Scope | None = None
) -> Any:
    """A dependency recording `action` by the caller once the handler has finished, with the
    outcome its answer had; `resource_param` names the path parameter holding the id. With
    `scope`, it checks the caller holds it, so refused attempts are recorded too. It exits
    before the response is sent: the event is stored by the time the caller hears back."""

    async def record_around(request: Request) -> AsyncIterator[AuditEntry]:
        principal = current_principal(request)
        entry = AuditEntry(request.path_params.get(resource_param) if resource_param else None)
        trail, request_id = trail_of(request), request_id_of(request)
        try:
            if scope is not None:
                check_scope(principal, scope)
            yield entry
        except Exception as exc:
            await _record(trail, principal.user_id, action, entry, request_id, exc)
            raise
        await _record(trail, principal.user_id, action, entry, request_id, None)

    return Depends(record_around, scope="function")


async def _record(
    trail: AuditTrail,
    actor: str,
    action: AuditAction,
    entry: AuditEntry,
    request_id: str,
    error: BaseException | None,
) -> None:
    await asyncio.to_thread(
        trail.record, actor, action, entry.resource_id, request_id=request_id, error=error
    )
