"""Status from the Deployment: what `kubectl get ttsp` shows and the router acts on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from chorus_operator.spec import TTSProviderSpec
from chorus_operator.status import applied_status, invalid_status, is_invalid, observed_status

NOW = datetime(2025, 5, 1, 12, 0, 0, tzinfo=UTC)
SPEC = TTSProviderSpec(kind="local", image="chorus-kokoro:0.1.0", models=["kokoro"], replicas=2)


def _deployment(ready: int, *conditions: tuple[str, str, str]) -> dict[str, Any]:
    return {
        "spec": {"replicas": 2},
        "status": {
            "replicas": 2,
            "readyReplicas": ready,
            "conditions": [
                {"type": kind, "status": status, "reason": reason, "message": f"{kind} says so"}
                for kind, status, reason in conditions
            ],
        },
    }


def _conditions(status: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {c["type"]: (c["status"], c["reason"]) for c in status["conditions"]}


AVAILABLE = ("Available", "True", "MinimumReplicasAvailable")
ROLLED_OUT = ("Progressing", "True", "NewReplicaSetAvailable")


def test_ready_once_replicas_are_ready_and_the_deployment_is_available() -> None:
    status = observed_status(SPEC, 4, _deployment(2, AVAILABLE, ROLLED_OUT), previous={}, now=NOW)
    assert status["phase"] == "Ready"
    assert (status["replicas"], status["readyReplicas"]) == (2, 2)
    assert _conditions(status) == {
        "Ready": ("True", "ReplicasReady"),
        "Available": ("True", "MinimumReplicasAvailable"),
        "Progressing": ("True", "NewReplicaSetAvailable"),
    }
    ready = status["conditions"][0]
    assert ready["message"] == "2 of 2 replicas ready"
    assert ready["observedGeneration"] == 4
    assert ready["lastTransitionTime"] == "2025-05-01T12:00:00Z"


def test_some_ready_replicas_still_serve_but_show_degraded() -> None:
    status = observed_status(SPEC, 1, _deployment(1, AVAILABLE), previous={}, now=NOW)
    assert status["phase"] == "Degraded"
    assert _conditions(status)["Ready"] == ("True", "ReplicasReady")


def test_not_ready_while_the_first_pods_start() -> None:
    fresh = observed_status(SPEC, 1, {"spec": {"replicas": 2}}, previous={}, now=NOW)
    assert fresh["phase"] == "Progressing"
    assert _conditions(fresh)["Ready"] == ("False", "ReplicasNotReady")
    assert _conditions(fresh)["Available"] == ("Unknown", "Pending")


def test_a_stuck_rollout_fails_with_the_deployments_reason() -> None:
    stuck = _deployment(0, ("Progressing", "False", "ProgressDeadlineExceeded"))
    status = observed_status(SPEC, 1, stuck, previous={}, now=NOW)
    assert status["phase"] == "Failed"
    assert _conditions(status)["Ready"] == ("False", "ProgressDeadlineExceeded")


def test_disabled_is_not_ready_whatever_the_pods_say() -> None:
    spec = SPEC.model_copy(update={"enabled": False})
    status = observed_status(spec, 2, _deployment(2, AVAILABLE), previous={}, now=NOW)
    assert status["phase"] == "Disabled"
    assert set(_conditions(status).values()) == {("False", "Disabled")}


def test_transition_times_move_only_when_a_status_changes() -> None:
    first = observed_status(SPEC, 1, _deployment(0), previous={}, now=NOW)
    later = NOW + timedelta(minutes=5)
    still = observed_status(SPEC, 1, _deployment(0), previous=first, now=later)
    assert still == first
    ready = observed_status(SPEC, 1, _deployment(2, AVAILABLE), previous=first, now=later)
    times = {c["type"]: c["lastTransitionTime"] for c in ready["conditions"]}
    assert times["Ready"] == "2025-05-01T12:05:00Z"
    assert times["Progressing"] == "2025-05-01T12:00:00Z"  # still Unknown


def test_an_invalid_spec_is_reported_as_such() -> None:
    status = invalid_status("spec.models: Field required", 7, previous={}, now=NOW)
    assert status["phase"] == "Failed"
    assert _conditions(status) == {"Ready": ("False", "InvalidSpec")}
    assert status["conditions"][0]["message"] == "spec.models: Field required"
    assert is_invalid(status)
    assert not is_invalid(observed_status(SPEC, 1, _deployment(0), previous={}, now=NOW))


def test_reconcile_writes_only_the_url_and_generation_it_applied() -> None:
    assert applied_status("http://p:8080", 3) == {"observedGeneration": 3, "url": "http://p:8080"}
    # Nothing else, so it never overwrites what the Deployment's events reported.
    assert applied_status("http://p:8080", None) == {"url": "http://p:8080"}
