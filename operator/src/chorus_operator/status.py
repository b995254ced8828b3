"""A TTSProvider's status, derived from its spec and its Deployment by pure functions.

Ready is what the router acts on: True only while the provider is enabled and at least one
replica is ready. Condition times only move when a condition's status changes. Reconcile writes
`observedGeneration` and `url`; the Deployment's events write the rest, so the two writers never
overwrite each other's fields with stale values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from chorus_operator.spec import TTSProviderSpec

ConditionStatus = Literal["True", "False", "Unknown"]
Phase = Literal["Progressing", "Ready", "Degraded", "Disabled", "Idle", "Failed"]
REASON_PATTERN = r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$"
INVALID_SPEC = "InvalidSpec"


class _StatusModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class Condition(_StatusModel):
    """The standard Kubernetes condition shape (metav1.Condition)."""

    type: str = Field(max_length=316)
    status: ConditionStatus
    observed_generation: int | None = Field(default=None, ge=0)
    last_transition_time: datetime
    reason: str = Field(min_length=1, max_length=1024, pattern=REASON_PATTERN)
    message: str = Field(default="", max_length=32768)


class ProviderStatus(_StatusModel):
    """What `kubectl get ttsp` shows and what the router reads (Ready and url)."""

    observed_generation: int | None = Field(default=None, ge=0)
    phase: Phase | None = None
    url: str | None = None
    replicas: int = Field(default=0, ge=0)
    ready_replicas: int = Field(default=0, ge=0)
    conditions: list[Condition] = Field(
        default_factory=list,
        max_length=8,
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]},
    )


@dataclass(frozen=True)
class _Verdict:
    type: str
    status: ConditionStatus
    reason: str
    message: str


def observed_status(
    spec: TTSProviderSpec,
    generation: int | None,
    deployment: Mapping[str, Any],
    *,
    previous: Mapping[str, Any] | None,
    now: datetime,
) -> dict[str, Any]:
    """Phase, replica counts and conditions of `spec`, given its Deployment as last seen."""
    dep_status: Mapping[str, Any] = deployment.get("status") or {}
    ready = int(dep_status.get("readyReplicas") or 0)
    if not spec.enabled:
        phase: Phase = "Disabled"
        verdicts = [
            _Verdict(kind, "False", "Disabled", "spec.enabled is false: scaled to zero")
            for kind in ("Ready", "Available", "Progressing")
        ]
    else:
        desired = int((deployment.get("spec") or {}).get("replicas", 1))
        phase, verdicts = _observe(dep_status, ready, desired)
        scales_to_zero = spec.autoscaling is not None and spec.autoscaling.scales_to_zero
        if scales_to_zero and desired == 0 and ready == 0:
            # Not a failure: KEDA took it to zero while idle, and the first request wakes it.
            phase = "Idle"
            verdicts[0] = _Verdict("Ready", "False", "ScaledToZero", "no replicas while idle")
    status = ProviderStatus(
        phase=phase,
        replicas=int(dep_status.get("replicas") or 0),
        ready_replicas=ready,
        conditions=_stamp(verdicts, previous, now, generation),
    )
    return status.model_dump(mode="json", by_alias=True, exclude_none=True)


def applied_status(url: str, generation: int | None) -> dict[str, Any]:
    """What reconcile owns: where the provider answers, and which generation was applied."""
    status = ProviderStatus(url=url, observed_generation=generation)
    return status.model_dump(mode="json", by_alias=True, exclude_unset=True, exclude_none=True)


def invalid_status(
    message: str, generation: int | None, *, previous: Mapping[str, Any] | None, now: datetime
) -> dict[str, Any]:
    """The status of a resource whose spec the operator cannot render."""
    verdict = _Verdict("Ready", "False", INVALID_SPEC, message)
    status = ProviderStatus(phase="Failed", conditions=_stamp([verdict], previous, now, generation))
    return status.model_dump(mode="json", by_alias=True, exclude_none=True)


def is_invalid(status: Mapping[str, Any]) -> bool:
    """Whether `status` says the spec could not be rendered (set by invalid_status)."""
    return any(
        c.get("type") == "Ready" and c.get("reason") == INVALID_SPEC
        for c in status.get("conditions") or []
    )


def _observe(
    dep_status: Mapping[str, Any], ready: int, desired: int
) -> tuple[Phase, list[_Verdict]]:
    seen = {c.get("type"): c for c in dep_status.get("conditions") or []}
    available = _mirror("Available", seen.get("Available"))
    progressing = _mirror("Progressing", seen.get("Progressing"))
    counts = f"{ready} of {desired} replicas ready"
    if ready > 0 and available.status == "True":
        phase: Phase = "Ready" if ready >= desired else "Degraded"
        ready_verdict = _Verdict("Ready", "True", "ReplicasReady", counts)
    elif progressing.status == "False":
        phase = "Failed"
        ready_verdict = _Verdict("Ready", "False", progressing.reason, progressing.message)
    else:
        phase = "Progressing"
        ready_verdict = _Verdict("Ready", "False", "ReplicasNotReady", counts)
    return phase, [ready_verdict, available, progressing]


def _mirror(kind: str, condition: Mapping[str, Any] | None) -> _Verdict:
    """The Deployment's condition of the same type, as the provider's own."""
    if condition is None:
        return _Verdict(kind, "Unknown", "Pending", "the Deployment has not reported it yet")
    status = condition.get("status")
    return _Verdict(
        kind,
        status if status in ("True", "False") else "Unknown",
        str(condition.get("reason") or "Unknown"),
        str(condition.get("message") or ""),
    )


def _stamp(
    verdicts: list[_Verdict],
    previous: Mapping[str, Any] | None,
    now: datetime,
    observed_generation: int | None,
) -> list[Condition]:
    before = {c.get("type"): c for c in (previous or {}).get("conditions") or []}
    conditions = []
    for verdict in verdicts:
        old = before.get(verdict.type) or {}
        unchanged = old.get("status") == verdict.status and old.get("lastTransitionTime")
        conditions.append(
            Condition(
                type=verdict.type,
                status=verdict.status,
                observed_generation=observed_generation,
                last_transition_time=old["lastTransitionTime"] if unchanged else now,
                reason=verdict.reason,
                message=verdict.message,
            )
        )
    return conditions
