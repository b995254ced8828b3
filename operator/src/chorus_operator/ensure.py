"""Making the cluster hold the rendered children, by server-side apply.

The operator applies each child whole as field manager `chorus-operator`: the API server
creates it, changes what differs, and removes fields the operator applied before and no longer
renders, while fields set by others (defaults, annotations added by kubectl rollout, an
autoscaler's replica count) stay theirs. `force` is safe because the operator applies only
fields it owns: a hand edit of one of them is drift, and is taken back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import kopf
from lightkube import AsyncClient

from chorus_operator import kube
from chorus_operator.kube import Body
from chorus_operator.naming import OPERATOR, child_name
from chorus_operator.provider import ProviderResource
from chorus_operator.render import DEPLOYMENT, Children, Manifest

FIELD_MANAGER = OPERATOR
# Holds spec.replicas for a moment when an autoscaler takes it over (see _hand_over_replicas).
HANDOVER_MANAGER = f"{OPERATOR}-handover"


async def ensure_children(
    api: AsyncClient, provider: ProviderResource, children: Children, logger: kopf.Logger
) -> Body:
    """Bring every child in line with `children`; returns the live Deployment."""
    deployment = await ensure(api, children.deployment, logger)
    await ensure(api, children.service, logger)
    for (api_version, kind), desired in children.optional():
        if desired is not None:
            await ensure(api, desired, logger)
            continue
        where = (api_version, kind, provider.namespace, child_name(provider.name))
        live = await kube.get(api, *where)
        if live is not None and owned_by(live, provider.uid):
            logger.info(f"Deleting {kind} {child_name(provider.name)}: no longer asked for.")
            await kube.delete(api, *where)
    return deployment


async def ensure(api: AsyncClient, desired: Manifest, logger: kopf.Logger) -> Body:
    """Apply `desired` (creating it when missing); returns the live object."""
    if (desired["apiVersion"], desired["kind"]) == DEPLOYMENT and "replicas" not in desired["spec"]:
        await _hand_over_replicas(api, desired["metadata"], logger)
    return await kube.apply(api, desired, field_manager=FIELD_MANAGER)


def drifted(desired: Manifest, live: Mapping[str, Any]) -> bool:
    """Whether `live` lost or changed a field the operator renders (server defaults aside)."""
    return not _contains(live, desired)


def owned_by(obj: Mapping[str, Any], uid: str) -> bool:
    refs = (obj.get("metadata") or {}).get("ownerReferences") or []
    return any(ref.get("uid") == uid for ref in refs)


async def _hand_over_replicas(
    api: AsyncClient, meta: Mapping[str, Any], logger: kopf.Logger
) -> None:
    """Keep the replica count when the operator stops applying it (an autoscaler now owns it).

    Dropping an applied field deletes it, and a Deployment without replicas has one: scaling a
    busy provider to one pod. As Kubernetes documents for handing replicas to an HPA, another
    manager applies the current count first, so the field stays when the operator lets go.
    A Deployment at zero (a disabled provider) is left to reset to one: an HPA never scales
    a Deployment up from zero.
    """
    live = await kube.get(api, *DEPLOYMENT, meta["namespace"], meta["name"])
    replicas = ((live or {}).get("spec") or {}).get("replicas")
    if not live or not replicas or not _applies(live, FIELD_MANAGER, ("spec", "replicas")):
        return
    logger.info(f"Handing the replica count ({replicas}) of {meta['name']} over.")
    keep = {
        "apiVersion": DEPLOYMENT[0],
        "kind": DEPLOYMENT[1],
        "metadata": {"name": meta["name"], "namespace": meta["namespace"]},
        "spec": {"replicas": replicas},
    }
    await kube.apply(api, keep, field_manager=HANDOVER_MANAGER)


def _applies(live: Mapping[str, Any], manager: str, path: tuple[str, ...]) -> bool:
    """Whether `manager` owns the field at `path` by an Apply (metadata.managedFields)."""
    for entry in (live.get("metadata") or {}).get("managedFields") or []:
        if entry.get("manager") != manager or entry.get("operation") != "Apply":
            continue
        node: Any = entry.get("fieldsV1") or {}
        for key in path:
            node = node.get(f"f:{key}") if isinstance(node, dict) else None
        if node is not None:
            return True
    return False


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
