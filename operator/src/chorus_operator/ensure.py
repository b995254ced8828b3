"""Making the cluster hold the rendered children: create, or patch only what differs.

Each child carries the spec the operator last applied to it (an annotation, as `kubectl apply`
does), so a field dropped from the rendering is removed from the child, while fields the API
server or other controllers add are left alone.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import kopf

from chorus_operator.kube import AlreadyExists, Body, KubeApi, collection_path, object_path
from chorus_operator.naming import LAST_APPLIED_ANNOTATION, child_name
from chorus_operator.provider import ProviderResource
from chorus_operator.render import Children, Manifest

# Once an autoscaler owns the replica count, dropping the field must not reset it to one.
_HANDED_OVER = {("spec", "replicas")}


async def ensure_children(
    api: KubeApi, provider: ProviderResource, children: Children, logger: kopf.Logger
) -> Body:
    """Bring every child in line with `children`; returns the live Deployment."""
    deployment = await ensure(api, children.deployment, logger)
    await ensure(api, children.service, logger)
    for (api_version, kind), desired in children.optional():
        if desired is not None:
            await ensure(api, desired, logger)
            continue
        path = object_path(api_version, kind, provider.namespace, child_name(provider.name))
        live = await api.get(path)
        if live is not None and owned_by(live, provider.uid):
            logger.info(f"Deleting {kind} {child_name(provider.name)}: no longer asked for.")
            await api.delete(path)
    return deployment


async def ensure(api: KubeApi, desired: Manifest, logger: kopf.Logger) -> Body:
    """Create `desired`, or patch the live object where it differs; returns the live object."""
    api_version, kind, meta = desired["apiVersion"], desired["kind"], desired["metadata"]
    path = object_path(api_version, kind, meta["namespace"], meta["name"])
    live = await api.get(path)
    if live is None:
        try:
            logger.info(f"Creating {kind} {meta['name']}.")
            return await api.create(
                collection_path(api_version, kind, meta["namespace"]), _annotated(desired)
            )
        except AlreadyExists:
            live = await api.get(path)
            if live is None:
                raise kopf.TemporaryError(f"{kind} {meta['name']} came and went", delay=1) from None
    patch = changes(desired, live)
    if patch is None:
        return live
    logger.info(f"Patching {kind} {meta['name']}.")
    return await api.merge_patch(path, patch)


def changes(desired: Manifest, live: Mapping[str, Any]) -> Manifest | None:
    """The merge patch that turns `live` into `desired`; None when nothing differs."""
    previous = _last_applied(live)
    if previous == desired and _contains(live, desired):
        return None
    return _merge_patch(previous, _annotated(desired), ())


def owned_by(obj: Mapping[str, Any], uid: str) -> bool:
    refs = (obj.get("metadata") or {}).get("ownerReferences") or []
    return any(ref.get("uid") == uid for ref in refs)


def _annotated(desired: Manifest) -> Manifest:
    meta = desired["metadata"]
    annotations = {
        **meta.get("annotations", {}),
        LAST_APPLIED_ANNOTATION: json.dumps(desired, sort_keys=True, separators=(",", ":")),
    }
    return {**desired, "metadata": {**meta, "annotations": annotations}}


def _last_applied(live: Mapping[str, Any]) -> Manifest:
    text = ((live.get("metadata") or {}).get("annotations") or {}).get(LAST_APPLIED_ANNOTATION)
    try:
        previous = json.loads(text) if text else {}
    except ValueError:
        return {}
    return previous if isinstance(previous, dict) else {}


def _contains(live: Any, want: Any) -> bool:
    """Whether everything in `want` is in `live` (which may hold more: server defaults)."""
    if isinstance(want, dict):
        return isinstance(live, dict) and all(
            key in live and _contains(live[key], value) for key, value in want.items()
        )
    if isinstance(want, list):
        return (
            isinstance(live, list)
            and len(live) == len(want)
            and all(_contains(a, b) for a, b in zip(live, want, strict=True))
        )
    return bool(live == want)


def _merge_patch(previous: Any, desired: Manifest, path: tuple[str, ...]) -> Manifest:
    """Everything desired, plus null for what was applied before and is no longer rendered."""
    patch: Manifest = {}
    old = previous if isinstance(previous, dict) else {}
    for key in old.keys() - desired.keys():
        if (*path, key) not in _HANDED_OVER:
            patch[key] = None
    for key, value in desired.items():
        nested = isinstance(value, dict) and isinstance(old.get(key), dict)
        patch[key] = _merge_patch(old[key], value, (*path, key)) if nested else value
    return patch
