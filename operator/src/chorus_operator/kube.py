"""The operator's own Kubernetes API calls, through lightkube's AsyncClient.

kopf watches and patches the TTSProviders; children and the status of a provider (written from
a Deployment's events, outside any TTSProvider handler) go through lightkube, which logs in the
way kopf does: the pod's service account in the cluster, else a kubeconfig (dev, tests).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx2
from lightkube import AsyncClient, KubeConfig
from lightkube.codecs import resource_registry
from lightkube.core.resource import NamespacedResource
from lightkube.generic_resource import create_namespaced_resource
from lightkube.types import PatchType
from opentelemetry.instrumentation.httpx import HTTPX2ClientInstrumentor
from opentelemetry.sdk.trace import TracerProvider

from chorus_operator.naming import GROUP, KIND, PLURAL, VERSION

Body = dict[str, Any]

TTSProvider = create_namespaced_resource(GROUP, VERSION, KIND, PLURAL)
# A child of providers that scale with KEDA; registering it lets `_resource` find it by kind.
ScaledObject = create_namespaced_resource("keda.sh", "v1alpha1", "ScaledObject", "scaledobjects")


def connect(tracing: TracerProvider | None) -> AsyncClient:
    """A client for the cluster the operator runs in (or the kubeconfig's current context)."""
    if tracing is not None:
        # Each API call is a client span under the handler's span. lightkube's httpx2 client is
        # the only one in the operator (kopf speaks aiohttp), so the class-wide hook is its.
        HTTPX2ClientInstrumentor().instrument(tracer_provider=tracing)
    return AsyncClient(KubeConfig.from_env(), timeout=httpx2.Timeout(30.0, connect=5.0))


async def get(
    api: AsyncClient, api_version: str, kind: str, namespace: str, name: str
) -> Body | None:
    """The live object as JSON, or None when there is none."""
    try:
        live = await api.get(_resource(api_version, kind), name, namespace=namespace)
    except httpx2.HTTPStatusError as exc:
        if _not_found(exc):
            return None
        raise
    return _as_json(live)


async def apply(api: AsyncClient, manifest: Mapping[str, Any], *, field_manager: str) -> Body:
    """Server-side apply of `manifest`, forced, as `field_manager`; returns the live object.

    A plain dict is applied as it is: lightkube's `apply()` takes typed objects, whose required
    fields a partial configuration (only spec.replicas, when handing them over) does not have.
    """
    meta = manifest["metadata"]
    live = await api.patch(
        _resource(manifest["apiVersion"], manifest["kind"]),
        meta["name"],
        dict(manifest),
        namespace=meta["namespace"],
        patch_type=PatchType.APPLY,
        field_manager=field_manager,
        force=True,
    )
    return _as_json(live)


async def delete(api: AsyncClient, api_version: str, kind: str, namespace: str, name: str) -> None:
    """Delete the object; one already gone is no error."""
    try:
        await api.delete(_resource(api_version, kind), name, namespace=namespace)
    except httpx2.HTTPStatusError as exc:
        if not _not_found(exc):
            raise


async def patch_status(api: AsyncClient, namespace: str, name: str, status: Body) -> None:
    """Merge `status` into a TTSProvider's status subresource."""
    await api.patch(
        TTSProvider.Status,
        name,
        {"status": status},
        namespace=namespace,
        patch_type=PatchType.MERGE,
    )


def _resource(api_version: str, kind: str) -> type[NamespacedResource]:
    """lightkube's class for a kind, which knows its URL; every child is namespaced."""
    resource = resource_registry.load(api_version, kind)
    if not issubclass(resource, NamespacedResource):
        raise TypeError(f"{kind} ({api_version}) is not a namespaced resource")
    return resource


def _not_found(exc: httpx2.HTTPStatusError) -> bool:
    # Not only lightkube's ApiError: it leaves an error whose Content-Type has parameters
    # ("application/json; charset=utf-8", as kmock sends it) as the plain httpx2 error.
    return exc.response.status_code == 404


def _as_json(obj: Any) -> Body:
    body: Body = obj.to_dict()
    return body
