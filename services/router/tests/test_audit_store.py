"""The audit store on SQLite: newest first, filters, cursor pages, the retention sweep."""

from __future__ import annotations

from pathlib import Path

import pytest

from chorus_contracts import PermissionDenied, RateLimited, UnknownVoice, UpstreamError
from chorus_router.audit import AuditAction, AuditEvent, AuditQuery, AuditStore, Outcome, outcome_of
from chorus_router.audit.store import new_event_id
from chorus_router.storage.database import database_url, open_engine
from chorus_router.storage.migrations import migrate

DAY = 86_400.0


@pytest.fixture
def store(tmp_path: Path) -> AuditStore:
    engine = open_engine(database_url(None, tmp_path))
    migrate(engine)
    return AuditStore(engine)


def _add(store: AuditStore, at: float, actor: str, action: AuditAction) -> AuditEvent:
    event = AuditEvent(new_event_id(at), at, actor, action, "voice_1", Outcome.OK, 200, "r", None)
    store.append(event)
    return event


def test_pages_are_newest_first_and_filtered(store: AuditStore) -> None:
    made = [
        _add(store, 1000.0 + i, "alice" if i % 2 else "bob", AuditAction.VOICE_USE)
        for i in range(5)
    ]
    _add(store, 2000.0, "alice", AuditAction.VOICE_DELETE)
    first = store.page(AuditQuery(actor="alice", action=AuditAction.VOICE_USE, limit=1))
    assert [e.id for e in first.events] == [made[3].id]
    assert first.has_more
    rest = store.page(AuditQuery(actor="alice", action=AuditAction.VOICE_USE, after=made[3].id))
    assert [e.id for e in rest.events] == [made[1].id]
    assert not rest.has_more
    window = store.page(AuditQuery(since=1001.0, until=1003.0))
    assert [e.created_at for e in window.events] == [1002.0, 1001.0]


def test_the_sweep_removes_only_what_is_past_retention(store: AuditStore) -> None:
    old = _add(store, 1000.0, "alice", AuditAction.VOICE_USE)
    kept = _add(store, 1000.0 + 29 * DAY, "alice", AuditAction.VOICE_USE)
    assert store.sweep(30 * DAY, now=1000.0 + 31 * DAY) == 1
    assert [e.id for e in store.page(AuditQuery()).events] == [kept.id]
    assert old.id < kept.id  # ids sort by time, which makes them the page cursor


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (None, (Outcome.OK, 200)),
        (PermissionDenied("no"), (Outcome.DENIED, 403)),
        (UnknownVoice("gone"), (Outcome.NOT_FOUND, 404)),
        (RateLimited("slow down"), (Outcome.REJECTED, 429)),
        (UpstreamError("broke"), (Outcome.FAILED, 502)),
        (RuntimeError("bug"), (Outcome.FAILED, 500)),
    ],
)
def test_outcomes_follow_the_answer(error: Exception | None, expected: tuple[Outcome, int]) -> None:
    assert outcome_of(error) == expected
