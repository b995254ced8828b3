"""kmock's Kubernetes emulator taught server-side apply, the contract the operator writes by.

What the real API server does and the operator relies on (KEP-555, "Server-Side Apply"):

- `PATCH` with `Content-Type: application/apply-patch+yaml` needs a `fieldManager`; it creates
  the object when missing, and the body must name the object the URL does.
- Each manager owns the fields it applied. Applying again without a field it owned removes
  that field, unless another manager owns it too.
- A field another manager set to a different value is a 409 conflict, unless `force=true`,
  which moves ownership to the applier.
- An apply that changes nothing changes nothing: no new version, no watch event.

Simplifications, stated: lists are atomic (the real server merges containers, ports and env by
their keys); only Apply ownership is published in `metadata.managedFields`, while ownership
taken by plain writes (`kubectl edit`/`scale`: merge patches) is tracked here, by the manager
named in `?fieldManager=` or the client's User-Agent.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from typing import Any

import aiohttp.web
import attrs
import kmock

APPLY_PATCH = "application/apply-patch+yaml"
Path = tuple[str, ...]
# Identity and server-owned fields: never anyone's to apply.
_UNOWNED: set[Path] = {
    ("apiVersion",),
    ("kind",),
    ("metadata", "name"),
    ("metadata", "namespace"),
    ("metadata", "managedFields"),
    ("metadata", "resourceVersion"),
    ("metadata", "uid"),
    ("metadata", "generation"),
    ("metadata", "creationTimestamp"),
}


@attrs.define(kw_only=True)
class ApplyingEmulator(kmock.KubernetesEmulator):
    """The emulator plus server-side apply and field ownership."""

    # (resource, namespace, name) -> manager -> fields taken by plain (non-apply) writes.
    _updaters: dict[Any, dict[str, set[Path]]] = attrs.field(factory=dict, init=False)
    # Ids of the apply requests that created their object (authorized as create and patch).
    created_by_apply: set[int] = attrs.field(factory=set, init=False)

    async def _handle(self, request: Any) -> aiohttp.web.StreamResponse:
        if request.method == "PATCH" and _is_apply(request.headers):
            return await self._apply(request)
        key = (request.resource, request.namespace, request.name)
        before = self._current(key)
        response = await super()._handle(request)
        if request.method == "DELETE":
            self._updaters.pop(key, None)
        elif request.method in ("PATCH", "PUT") and isinstance(request.data, dict) and before:
            self._record_update(key, before, request)
        return response

    def managers(self, resource: str, namespace: str, name: str) -> dict[str, set[Path]]:
        """Who owns which fields of one object (Apply and plain writes together)."""
        key = (kmock.resource(resource), namespace, name)
        owners = {m: set(p) for m, p in self._updaters.get(key, {}).items()}
        for entry in (self._current(key) or {}).get("metadata", {}).get("managedFields", []):
            owners.setdefault(entry["manager"], set()).update(_paths(entry["fieldsV1"]))
        return owners

    async def _apply(self, request: Any) -> aiohttp.web.StreamResponse:
        manager = request.params.get("fieldManager")
        config = request.data
        if not manager:
            return _status(422, "Invalid", "fieldManager: Required value: is required for apply")
        meta = config.get("metadata", {}) if isinstance(config, dict) else {}
        if (
            not (config.get("apiVersion") and config.get("kind"))
            or meta.get("name") != request.name
        ):
            return _status(400, "BadRequest", "the applied object must name the URL's object")
        key = (request.resource, request.namespace, request.name)
        async with self._lock:
            live = self._current(key)
            applied = set(_leaves(config))
            others = self._others(key, live, manager)
            conflicts = sorted(
                p
                for p in applied
                if live
                and _get(live, p) not in (_MISSING, _get(config, p))
                and any(p in fields for fields in others.values())
            )
            if conflicts and request.params.get("force") != "true":
                names = ", ".join(".".join(p) for p in conflicts)
                return _status(409, "Conflict", f"Apply failed with conflicts: {names}")
            for fields in self._updaters.get(key, {}).values():
                fields.difference_update(conflicts)
            result = self._merged(live, config, manager, applied, conflicts, others)
            if live is not None and result == live:
                return aiohttp.web.json_response(live)
            event = "MODIFIED" if live is not None else "ADDED"
            if live is None:
                self.created_by_apply.add(request.id)
            if key in self._objects and not self._objects[key].deleted:
                self._objects[key].history.append(result)
            elif key in self._objects:
                self._objects[key].create(result)
            else:
                self._objects[key] = result
            await self._buses[request.resource].put({"type": event, "object": result})
        return aiohttp.web.json_response(result, status=201 if event == "ADDED" else 200)

    def _merged(
        self,
        live: dict[str, Any] | None,
        config: dict[str, Any],
        manager: str,
        applied: set[Path],
        conflicts: list[Path],
        others: dict[str, set[Path]],
    ) -> dict[str, Any]:
        result = copy.deepcopy(live) if live is not None else {}
        entries = [e for e in result.get("metadata", {}).get("managedFields", [])]
        mine = next((e for e in entries if e["manager"] == manager), None)
        owned_before = _paths(mine["fieldsV1"]) if mine else set()
        still_owned = set().union(*others.values()) if others else set()
        for path in owned_before - applied - still_owned:
            _remove(result, path)
        for path in applied:
            _put(result, path, copy.deepcopy(_get(config, path)))
        for entry in entries:  # forced: the applier takes the conflicting fields
            if entry["manager"] != manager and conflicts:
                entry["fieldsV1"] = _fields(_paths(entry["fieldsV1"]) - set(conflicts))
        entries = [e for e in entries if e["manager"] != manager]
        entries.append(
            {
                "manager": manager,
                "operation": "Apply",
                "apiVersion": config["apiVersion"],
                "fieldsType": "FieldsV1",
                "fieldsV1": _fields(applied),
            }
        )
        result.setdefault("metadata", {})["managedFields"] = entries
        result["apiVersion"], result["kind"] = config["apiVersion"], config["kind"]
        result["metadata"]["name"] = config["metadata"]["name"]
        result["metadata"]["namespace"] = config["metadata"].get("namespace")
        return result

    def _others(self, key: Any, live: dict[str, Any] | None, manager: str) -> dict[str, set[Path]]:
        owners = {m: set(p) for m, p in self._updaters.get(key, {}).items() if m != manager}
        for entry in (live or {}).get("metadata", {}).get("managedFields", []):
            if entry["manager"] != manager:
                owners.setdefault(entry["manager"], set()).update(_paths(entry["fieldsV1"]))
        return owners

    def _record_update(self, key: Any, before: dict[str, Any], request: Any) -> None:
        """A plain write takes the fields it changed, from whoever owned them."""
        after = self._current(key)
        if after is None:
            return
        manager = request.params.get("fieldManager") or _agent(request.headers)
        changed = {p for p in _leaves(request.data) if _get(after, p) != _get(before, p)}
        owners = self._updaters.setdefault(key, {})
        for fields in owners.values():
            fields.difference_update(changed)
        owners.setdefault(manager, set()).update(changed)
        for entry in after.get("metadata", {}).get("managedFields", []):
            if entry["manager"] != manager and changed & _paths(entry["fieldsV1"]):
                entry["fieldsV1"] = _fields(_paths(entry["fieldsV1"]) - changed)

    def _current(self, key: Any) -> dict[str, Any] | None:
        if key not in self._objects or self._objects[key].deleted:
            return None
        raw: dict[str, Any] = self._objects[key].raw
        return raw


def _is_apply(headers: Mapping[str, str]) -> bool:
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    return content_type.split(";")[0].strip() == APPLY_PATCH


def _agent(headers: Mapping[str, str]) -> str:
    agent = next((v for k, v in headers.items() if k.lower() == "user-agent"), "unknown")
    return agent.split("/")[0] or "unknown"


def _status(code: int, reason: str, message: str) -> aiohttp.web.Response:
    body = {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    return aiohttp.web.Response(text=json.dumps(body), status=code, content_type="application/json")


_MISSING = object()


def _leaves(obj: Any, prefix: Path = ()) -> Iterator[Path]:
    """Paths to every scalar, list or empty map (lists are atomic here) that is not None."""
    if isinstance(obj, dict) and obj:
        for key, value in obj.items():
            path = (*prefix, key)
            if path not in _UNOWNED and value is not None:
                yield from _leaves(value, path)
    elif prefix:
        yield prefix


def _get(obj: Any, path: Path) -> Any:
    for key in path:
        if not isinstance(obj, dict) or key not in obj:
            return _MISSING
        obj = obj[key]
    return obj


def _put(obj: dict[str, Any], path: Path, value: Any) -> None:
    for key in path[:-1]:
        if not isinstance(obj.get(key), dict):
            obj[key] = {}
        obj = obj[key]
    obj[path[-1]] = value


def _remove(obj: dict[str, Any], path: Path) -> None:
    parents = [obj]
    for key in path[:-1]:
        if not isinstance(parents[-1].get(key), dict):
            return
        parents.append(parents[-1][key])
    parents[-1].pop(path[-1], None)
    for depth in range(len(path) - 2, -1, -1):  # maps left empty go too
        if not parents[depth + 1]:
            parents[depth].pop(path[depth], None)


def _fields(paths: set[Path]) -> dict[str, Any]:
    """Paths as Kubernetes' FieldsV1: {"f:spec": {"f:replicas": {}}}."""
    tree: dict[str, Any] = {}
    for path in sorted(paths):
        node = tree
        for key in path:
            node = node.setdefault(f"f:{key}", {})
    return tree


def _paths(fields: Mapping[str, Any], prefix: Path = ()) -> set[Path]:
    found: set[Path] = set()
    for key, child in fields.items():
        path = (*prefix, key.removeprefix("f:"))
        found |= _paths(child, path) if child else {path}
    return found
