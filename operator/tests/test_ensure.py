"""Patching children: only when they differ, removing what is no longer rendered."""

from __future__ import annotations

import copy
import json
from typing import Any

from chorus_operator.ensure import changes
from chorus_operator.naming import LAST_APPLIED_ANNOTATION


def _deployment(
    image: str = "chorus-kokoro:0.1.0", replicas: int | None = None, **pod: Any
) -> dict[str, Any]:
    spec: dict[str, Any] = {} if replicas is None else {"replicas": replicas}
    spec["template"] = {"spec": {"containers": [{"name": "provider", "image": image}], **pod}}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "chorus-provider-kokoro", "namespace": "voices"},
        "spec": spec,
    }


def _as_stored(desired: dict[str, Any]) -> dict[str, Any]:
    """The child as the API server returns it after creation: annotated, with defaults added."""
    live = copy.deepcopy(desired)
    live["metadata"]["annotations"] = {
        LAST_APPLIED_ANNOTATION: json.dumps(desired),
        "deployment.kubernetes.io/revision": "1",
    }
    live["metadata"] |= {"uid": "child-uid", "resourceVersion": "42"}
    live["spec"]["template"]["spec"]["dnsPolicy"] = "ClusterFirst"
    live["spec"]["template"]["spec"]["containers"][0]["terminationMessagePath"] = "/dev/log"
    live["status"] = {"readyReplicas": 1}
    return live


def test_a_child_holding_everything_rendered_is_left_alone() -> None:
    desired = _deployment(replicas=2)
    assert changes(desired, _as_stored(desired)) is None


def test_a_changed_spec_is_patched_in() -> None:
    after = _deployment(image="chorus-kokoro:0.2.0")
    patch = changes(after, _as_stored(_deployment()))
    assert patch is not None
    assert patch["spec"]["template"]["spec"]["containers"][0]["image"] == "chorus-kokoro:0.2.0"
    assert json.loads(patch["metadata"]["annotations"][LAST_APPLIED_ANNOTATION]) == after


def test_a_hand_edit_of_a_rendered_field_is_reverted() -> None:
    desired = _deployment()
    live = _as_stored(desired)
    live["spec"]["template"]["spec"]["containers"][0]["image"] = "someone/else:latest"
    patch = changes(desired, live)
    assert patch is not None
    assert patch["spec"]["template"]["spec"]["containers"][0]["image"] == "chorus-kokoro:0.1.0"


def test_fields_no_longer_rendered_are_removed() -> None:
    patch = changes(_deployment(), _as_stored(_deployment(nodeSelector={"pool": "tts"})))
    assert patch is not None
    assert patch["spec"]["template"]["spec"]["nodeSelector"] is None


def test_an_autoscaler_keeps_the_replica_count_it_owns() -> None:
    patch = changes(_deployment(), _as_stored(_deployment(replicas=3)))
    assert patch is not None
    assert "replicas" not in patch["spec"]


def test_a_child_made_by_someone_else_is_taken_over_whole() -> None:
    desired = _deployment()
    live = copy.deepcopy(desired)
    live["spec"]["template"]["spec"]["containers"][0]["image"] = "other:1"
    patch = changes(desired, live)
    assert patch is not None
    assert patch["spec"] == desired["spec"]
