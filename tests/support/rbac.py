"""RBAC proven by replay: the requests a component made against kmock, as the API server's
authorizer sees them (API group, resource or resource/subresource, verb), against the Roles the
chart renders for it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import kmock
from chart.rendering import render

Access = tuple[str, str, str]  # (apiGroup, resource[/subresource], verb)


def requested(
    api: kmock.KubernetesEmulator, token: str, created: Iterable[int] = ()
) -> set[Access]:
    """What the client holding `token` asked for. `created`: ids of apply patches that created
    their object, which the API server authorizes as `create` as well as `patch`."""
    made = set(created)
    found: set[Access] = set()
    for request in api:
        auth = next((v for k, v in request.headers.items() if k.lower() == "authorization"), "")
        if auth != f"Bearer {token}" or request.resource is None or not request.resource.plural:
            continue  # another client, or discovery (/api, /apis: allowed to every user)
        resource = request.resource.plural
        if request.subresource:
            resource = f"{resource}/{request.subresource}"
        for verb in _verbs(request, made):
            found.add((request.resource.group or "", resource, verb))
    return found


def granted(role_name: str, values: dict[str, Any] | None = None) -> set[Access]:
    """Every (group, resource, verb) the chart's Role `role_name` allows (no wildcards used)."""
    (role,) = [r for r in render(values).of_kind("Role") if r["metadata"]["name"] == role_name]
    allowed: set[Access] = set()
    for rule in role["rules"]:
        assert "resourceNames" not in rule, "replay compares whole resources"
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                for verb in rule["verbs"]:
                    assert "*" not in (group, resource, verb), "a wildcard grants more than used"
                    allowed.add((group, resource, verb))
    return allowed


def _verbs(request: Any, created: set[int]) -> list[str]:
    method = str(request.method.value if hasattr(request.method, "value") else request.method)
    if method == "GET":
        if request.params.get("watch") in ("true", "1"):
            return ["watch"]
        return ["get"] if request.name else ["list"]
    verbs = {"POST": ["create"], "PUT": ["update"], "PATCH": ["patch"], "DELETE": ["delete"]}
    found = list(verbs.get(method, [method.lower()]))
    if method == "PATCH" and request.id in created:
        found.append("create")
    return found
