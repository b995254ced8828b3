"""Audit events in the router's shared database: appended, listed newest first, swept.

Nothing here updates a row: the only delete is the retention sweep. Ids sort by time
(microseconds in fixed-width hex, then random bits), so they double as the page cursor.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any, TypeAlias

from sqlalchemy import (
    BigInteger,
    Column,
    Engine,
    Integer,
    MetaData,
    Row,
    String,
    Table,
    delete,
    insert,
    select,
)

from chorus_router.audit.events import AuditAction, AuditEvent, Outcome

# The table as it is now, for queries; its history is in chorus_router/migrations.py.
audit_events = Table(
    "audit_events",
    MetaData(),
    Column("id", String(40), primary_key=True),
    Column("at_us", BigInteger, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(40), nullable=False),
    Column("resource_id", String(64)),
    Column("outcome", String(16), nullable=False),
    Column("status", Integer, nullable=False),
    Column("request_id", String(64), nullable=False),
    Column("trace_id", String(32)),
)
_Row: TypeAlias = Row[*tuple[Any, ...]]


@dataclass(frozen=True)
class AuditQuery:
    """Filters for a page of events; every one optional."""

    actor: str | None = None
    action: AuditAction | None = None
    since: float | None = None  # Unix seconds, inclusive
    until: float | None = None  # Unix seconds, exclusive
    after: str | None = None  # the last id of the previous page
    limit: int = 50


@dataclass(frozen=True)
class AuditPage:
    events: list[AuditEvent]
    has_more: bool


def new_event_id(at: float) -> str:
    return f"aud_{round(at * 1e6):016x}{secrets.token_hex(4)}"


class AuditStore:
    """Calls block: the router runs them in worker threads."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def append(self, event: AuditEvent) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                insert(audit_events).values(
                    id=event.id,
                    at_us=round(event.created_at * 1e6),
                    actor=event.actor,
                    action=str(event.action),
                    resource_id=event.resource_id,
                    outcome=str(event.outcome),
                    status=event.status,
                    request_id=event.request_id,
                    trace_id=event.trace_id,
                )
            )

    def page(self, query: AuditQuery) -> AuditPage:
        """Events matching `query`, newest first, `query.limit` at a time."""
        c = audit_events.c
        statement = select(audit_events).order_by(c.id.desc()).limit(query.limit + 1)
        if query.actor is not None:
            statement = statement.where(c.actor == query.actor)
        if query.action is not None:
            statement = statement.where(c.action == str(query.action))
        if query.since is not None:
            statement = statement.where(c.at_us >= round(query.since * 1e6))
        if query.until is not None:
            statement = statement.where(c.at_us < round(query.until * 1e6))
        if query.after is not None:
            statement = statement.where(c.id < query.after)
        with self._engine.begin() as conn:
            rows = conn.execute(statement).all()
        events = [_event(row) for row in rows[: query.limit]]
        return AuditPage(events, has_more=len(rows) > query.limit)

    def sweep(self, retention_s: float, now: float | None = None) -> int:
        """Delete events older than `retention_s`; returns how many went."""
        cutoff = round(((now if now is not None else time.time()) - retention_s) * 1e6)
        with self._engine.begin() as conn:
            return conn.execute(delete(audit_events).where(audit_events.c.at_us < cutoff)).rowcount


def _event(row: _Row) -> AuditEvent:
    return AuditEvent(
        id=row.id,
        created_at=row.at_us / 1e6,
        actor=row.actor,
        action=AuditAction(row.action),
        resource_id=row.resource_id,
        outcome=Outcome(row.outcome),
        status=row.status,
        request_id=row.request_id,
        trace_id=row.trace_id,
    )
