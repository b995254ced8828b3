"""What counts as drift on a child, and image references completed like the chart's."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from chorus_operator.ensure import drifted
from chorus_operator.images import ImageDefaults


def _deployment(image: str = "chorus-kokoro:0.1.0", replicas: int | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {} if replicas is None else {"replicas": replicas}
    spec["template"] = {"spec": {"containers": [{"name": "provider", "image": image}]}}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "chorus-provider-kokoro", "namespace": "voices"},
        "spec": spec,
    }


def _as_stored(desired: dict[str, Any]) -> dict[str, Any]:
    """The child as the API server returns it: defaults, annotations and status added."""
    live = copy.deepcopy(desired)
    live["metadata"] |= {"uid": "child-uid", "resourceVersion": "42"}
    live["metadata"]["annotations"] = {"deployment.kubernetes.io/revision": "1"}
    live["spec"].setdefault("replicas", 1)
    live["spec"]["template"]["spec"]["dnsPolicy"] = "ClusterFirst"
    live["spec"]["template"]["spec"]["containers"][0]["terminationMessagePath"] = "/dev/log"
    live["status"] = {"readyReplicas": 1}
    return live


def test_server_defaults_and_others_fields_are_not_drift() -> None:
    desired = _deployment(replicas=2)
    assert not drifted(desired, _as_stored(desired))


def test_a_hand_edit_of_a_rendered_field_is_drift() -> None:
    desired = _deployment()
    live = _as_stored(desired)
    live["spec"]["template"]["spec"]["containers"][0]["image"] = "someone/else:latest"
    assert drifted(desired, live)


def test_scaling_is_drift_only_where_the_operator_sets_replicas() -> None:
    scaled = _as_stored(_deployment(replicas=2))
    scaled["spec"]["replicas"] = 5
    assert drifted(_deployment(replicas=2), scaled)
    assert not drifted(_deployment(replicas=None), scaled)  # an autoscaler's count


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("chorus-kokoro", "ghcr.io/acme/chorus-kokoro:1.2.3"),
        ("chorus-kokoro:0.9.0", "ghcr.io/acme/chorus-kokoro:0.9.0"),
        ("team/chorus-kokoro", "ghcr.io/acme/team/chorus-kokoro:1.2.3"),
        ("quay.io/x/chorus-kokoro", "quay.io/x/chorus-kokoro:1.2.3"),
        ("localhost:5000/chorus-kokoro", "localhost:5000/chorus-kokoro:1.2.3"),
        ("chorus-kokoro@sha256:" + "a" * 64, "ghcr.io/acme/chorus-kokoro@sha256:" + "a" * 64),
    ],
)
def test_images_are_completed_like_the_charts(image: str, expected: str) -> None:
    assert ImageDefaults("ghcr.io/acme/", "1.2.3").resolve(image) == expected


def test_without_defaults_an_image_is_used_as_written() -> None:
    assert ImageDefaults().resolve("chorus-kokoro") == "chorus-kokoro"
