"""What an audit event says: an action from a fixed set, who, on what, and how it ended.

Every field comes from a bounded set or is an identifier: never audio, text or secrets.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from fastapi import HTTPException

from chorus_contracts import ChorusError


class AuditAction(StrEnum):
    CONSENT_CREATE = "voice_consent.create"
    CONSENT_UPDATE = "voice_consent.update"
    CONSENT_DELETE = "voice_consent.delete"
    VOICE_CREATE = "voice.create"
    VOICE_DELETE = "voice.delete"
    VOICE_USE = "voice.use"
    VOICE_PREVIEW = "voice.preview"
    KEY_CREATE = "api_key.create"
    KEY_LIST = "api_key.list"
    KEY_REVOKE = "api_key.revoke"
    AUDIT_READ = "audit.read"
    JOB_CREATE = "job.create"
    JOB_CANCEL = "job.cancel"
    LEXICON_CREATE = "lexicon.create"
    LEXICON_DELETE = "lexicon.delete"
    JOB_OUTPUTS_DELETE = "job.outputs_delete"


class Outcome(StrEnum):
    OK = "ok"
    DENIED = "denied"  # 401 or 403: the caller may not do this
    NOT_FOUND = "not_found"  # 404: nothing of the caller's by that id
    REJECTED = "rejected"  # any other 4xx: bad input, quota, conflict
    FAILED = "failed"  # 5xx or an unexpected error


def outcome_of(error: BaseException | None) -> tuple[Outcome, int]:
    """The outcome and HTTP status that an error (or none) gives the caller."""
    if error is None:
        return Outcome.OK, 200
    if isinstance(error, ChorusError):
        status = error.status
    elif isinstance(error, HTTPException):
        status = error.status_code
    else:
        return Outcome.FAILED, 500
    if status in (401, 403):
        return Outcome.DENIED, status
    if status == 404:
        return Outcome.NOT_FOUND, status
    return (Outcome.REJECTED if status < 500 else Outcome.FAILED), status


@dataclass(frozen=True)
class AuditEvent:
    """One recorded operation."""

    id: str
    created_at: float  # Unix seconds
    actor: str
    action: AuditAction
    resource_id: str | None
    outcome: Outcome
    status: int
    request_id: str
    trace_id: str | None
