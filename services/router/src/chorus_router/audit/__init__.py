"""The audit log: who did what to voices, keys and admin state, kept append-only."""

from chorus_router.audit.events import AuditAction, AuditEvent, Outcome, outcome_of
from chorus_router.audit.recording import AuditEntry, AuditTrail, audited
from chorus_router.audit.settings import AuditSettings
from chorus_router.audit.store import AuditPage, AuditQuery, AuditStore

__all__ = [
    "AuditAction",
    "AuditEntry",
    "AuditEvent",
    "AuditPage",
    "AuditQuery",
    "AuditSettings",
    "AuditStore",
    "AuditTrail",
    "Outcome",
    "audited",
    "outcome_of",
]
