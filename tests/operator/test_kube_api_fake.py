"""The server-side apply that the operator's tests rely on behaves as the API server's does."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import kmock
import pytest

from support.kube_api import APPLY_PATCH, ApplyingEmulator

SERVICES = "v1/services"
PATH = "/api/v1/namespaces/ns/services/s"


def _service(**spec: Any) -> dict[str, Any]:
    meta = {"name": "s", "namespace": "ns"}
    return {"apiVersion": "v1", "kind": "Service", "metadata": meta, "spec": spec}


@pytest.fixture
async def api() -> AsyncIterator[ApplyingEmulator]:
    async with ApplyingEmulator() as emulator, kmock.Server(emulator):
        emulator.resources[SERVICES] = kmock.ResourceInfo(kind="Service", namespaced=True)
        yield emulator


async def _apply(api: ApplyingEmulator, body: Any, query: str) -> tuple[int, Any]:
    headers = {"Content-Type": APPLY_PATCH}
    async with api.request("PATCH", f"{PATH}{query}", data=json.dumps(body), headers=headers) as r:
        return r.status, await r.json()


def _versions(api: ApplyingEmulator) -> int:
    return len(api.objects[kmock.resource(SERVICES), "ns", "s"].history)


async def test_apply_creates_then_changes_nothing_when_nothing_differs(
    api: ApplyingEmulator,
) -> None:
    status, _ = await _apply(api, _service(type="ClusterIP"), "?fieldManager=op")
    assert status == 201
    status, _ = await _apply(api, _service(type="ClusterIP"), "?fieldManager=op")
    assert (status, _versions(api)) == (200, 1)


async def test_fields_dropped_from_the_applied_config_are_removed(api: ApplyingEmulator) -> None:
    await _apply(api, _service(type="ClusterIP", sessionAffinity="None"), "?fieldManager=op")
    _, live = await _apply(api, _service(type="ClusterIP"), "?fieldManager=op")
    assert "sessionAffinity" not in live["spec"]


async def test_another_managers_field_conflicts_unless_forced(api: ApplyingEmulator) -> None:
    await _apply(api, _service(type="ClusterIP"), "?fieldManager=op")
    async with api.request(
        "PATCH", f"{PATH}?fieldManager=kubectl-edit", json={"spec": {"type": "NodePort"}},
        headers={"Content-Type": "application/merge-patch+json"},
    ) as response:  # fmt: skip
        assert response.status == 200
    status, body = await _apply(api, _service(type="ClusterIP"), "?fieldManager=op")
    assert (status, body["reason"]) == (409, "Conflict")
    status, live = await _apply(api, _service(type="ClusterIP"), "?fieldManager=op&force=true")
    assert (status, live["spec"]["type"]) == (200, "ClusterIP")
    assert ("spec", "type") not in api.managers(SERVICES, "ns", "s").get("kubectl-edit", set())


async def test_an_apply_needs_a_field_manager(api: ApplyingEmulator) -> None:
    status, body = await _apply(api, _service(type="ClusterIP"), "")
    assert (status, body["reason"]) == (422, "Invalid")
