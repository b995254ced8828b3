"""The kopf handlers: one idempotent reconcile per TTSProvider, status from its Deployment.

Run namespaced and standalone (one replica, no peering):

    kopf run --standalone --namespace=<ns> --liveness=http://0.0.0.0:8080/healthz \\
        -m chorus_operator.handlers

No handler needs a finalizer: children are owned by the resource and garbage-collected with it,
and Ready comes from the Deployment's events rather than a timer, so deleting a TTSProvider
never waits for the operator.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import kopf
from lightkube import AsyncClient
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from chorus_operator import kube
from chorus_operator.ensure import drifted, ensure_children, owned_by
from chorus_operator.kube import Body
from chorus_operator.naming import (
    API_VERSION,
    GROUP,
    KIND,
    MANAGED_BY_LABEL,
    OPERATOR,
    PLURAL,
    PROVIDER_LABEL,
    VERSION,
    service_url,
)
from chorus_operator.provider import InvalidProvider, ProviderResource
from chorus_operator.render import Children, render
from chorus_operator.settings import OperatorSettings
from chorus_operator.status import applied_status, invalid_status, is_invalid, observed_status
from chorus_telemetry import setup_tracing, shutdown_tracing

tracer = trace.get_tracer("chorus.operator")


@dataclass(frozen=True)
class OperatorContext:
    """What every handler shares, kept in kopf's memo rather than in module globals."""

    settings: OperatorSettings
    api: AsyncClient
    tracing: TracerProvider | None


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, memo: kopf.Memo, **_: Any) -> None:
    # Progress and the last handled spec live in annotations: the status is Chorus's alone.
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=GROUP)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=GROUP, key="last-handled-configuration"
    )
    # Namespaced: no cluster-wide watching of CRDs and namespaces, hence no RBAC for it.
    settings.scanning.disabled = True
    # One line per API call is noise; the handlers log what they change.
    logging.getLogger("httpx2").setLevel(logging.WARNING)
    # OTEL_* as every Chorus service reads them: spans per reconcile, with its API calls.
    tracing = setup_tracing(OPERATOR)
    memo["context"] = OperatorContext(
        OperatorSettings.from_environment(os.environ),
        kube.connect(tracing),
        tracing,
    )


@kopf.on.login()
def login(settings: kopf.OperatorSettings, **_: Any) -> kopf.ConnectionInfo | None:
    """The pod's service account inside the cluster; a kubeconfig elsewhere (dev, tests)."""
    return kopf.login_with_service_account(settings=settings) or kopf.login_with_kubeconfig(
        settings=settings
    )


@kopf.on.cleanup()
async def close(memo: kopf.Memo, **_: Any) -> None:
    context = _context(memo)
    await context.api.aclose()
    shutdown_tracing(context.tracing)


@kopf.on.resume(GROUP, VERSION, PLURAL)
@kopf.on.create(GROUP, VERSION, PLURAL)
@kopf.on.update(GROUP, VERSION, PLURAL)
async def reconcile(
    body: kopf.Body,
    status: kopf.Status,
    patch: kopf.Patch,
    memo: kopf.Memo,
    logger: kopf.Logger,
    **_: Any,
) -> None:
    """Render the children, make the cluster hold exactly them, and publish the URL."""
    with tracer.start_as_current_span("reconcile", attributes=_span_attributes(body)):
        await _reconcile(body, status, patch, _context(memo), logger)


async def _reconcile(
    body: kopf.Body,
    status: kopf.Status,
    patch: kopf.Patch,
    context: OperatorContext,
    logger: kopf.Logger,
) -> None:
    generation = body.meta.get("generation")
    try:
        provider = ProviderResource.from_body(body)
    except InvalidProvider as exc:
        _update_status(
            patch, status, invalid_status(str(exc), generation, previous=status, now=_now())
        )
        raise kopf.PermanentError(f"invalid TTSProvider: {exc}") from None
    children = _render(provider, context)
    deployment = await ensure_children(context.api, provider, children, logger)
    url = service_url(provider.name, provider.namespace, context.settings.cluster_domain)
    fresh = applied_status(url, generation)
    if is_invalid(status):
        # The Deployment may not change when the spec is fixed, so no event would clear this.
        fresh |= observed_status(provider.spec, generation, deployment, previous=status, now=_now())
    _update_status(patch, status, fresh)


# Every child carries these labels (render.py); the selector keeps other objects' events out.
CHILD_LABELS: dict[str, Any] = {
    MANAGED_BY_LABEL: OPERATOR,
    PROVIDER_LABEL: kopf.PRESENT,
}


@kopf.on.event("apps", "v1", "deployments", labels=CHILD_LABELS)
async def deployment_changed(
    event: kopf.RawEvent, body: kopf.Body, memo: kopf.Memo, logger: kopf.Logger, **_: Any
) -> None:
    """Correct drift, then derive the owner's Ready/Available/Progressing from the Deployment."""
    context = _context(memo)
    owner = await _owner(context, body)
    if owner is None:
        return
    provider, previous = owner
    deployment: Mapping[str, Any] = body
    corrected = await _correct_drift(context, provider, event, body, logger)
    if corrected is not None:
        deployment = corrected
    fresh = observed_status(
        provider.spec, provider.generation, deployment, previous=previous, now=_now()
    )
    if _differs(previous, fresh):
        logger.info(f"{KIND} {provider.name} is now {fresh['phase']}.")
        await kube.patch_status(context.api, provider.namespace, provider.name, fresh)


@kopf.on.event("", "v1", "services", labels=CHILD_LABELS)
@kopf.on.event("autoscaling", "v2", "horizontalpodautoscalers", labels=CHILD_LABELS)
@kopf.on.event("policy", "v1", "poddisruptionbudgets", labels=CHILD_LABELS)
async def child_changed(
    event: kopf.RawEvent, body: kopf.Body, memo: kopf.Memo, logger: kopf.Logger, **_: Any
) -> None:
    """A Service, autoscaler or budget edited or deleted by hand is put back as rendered."""
    context = _context(memo)
    owner = await _owner(context, body)
    if owner is not None:
        await _correct_drift(context, owner[0], event, body, logger)


async def _owner(
    context: OperatorContext, child: kopf.Body
) -> tuple[ProviderResource, Mapping[str, Any]] | None:
    """The valid TTSProvider that owns `child`, and its status; None otherwise."""
    name = child.metadata.labels[PROVIDER_LABEL]
    owner = await kube.get(context.api, API_VERSION, KIND, str(child.metadata.namespace), name)
    if owner is None or not _owns(owner, child):
        return None  # going away (Kubernetes collects its children), or not this child's owner
    try:
        provider = ProviderResource.from_body(owner)
    except InvalidProvider:
        return None  # reconcile reports it
    return provider, owner.get("status") or {}


async def _correct_drift(
    context: OperatorContext,
    provider: ProviderResource,
    event: kopf.RawEvent,
    child: kopf.Body,
    logger: kopf.Logger,
) -> Body | None:
    """Re-apply the children when `child` was deleted or no longer holds what is rendered.

    Returns the live Deployment when it re-applied. Only rendered fields count: an
    autoscaler's replica count is not rendered, so scaling under an HPA is not drift.
    """
    children = _render(provider, context)
    # Watch events carry the object's kind (as a GET does).
    desired = children.by_kind(str(child.get("kind", "")))
    if event["type"] == "DELETED":
        if desired is None:
            return None  # an optional child that is no longer asked for
        logger.info(f"The {desired['kind']} of {KIND} {provider.name} was deleted; applying again.")
    elif desired is None or not drifted(desired, child):
        return None
    else:
        logger.info(f"The {desired['kind']} of {KIND} {provider.name} drifted; applying it again.")
    return await ensure_children(context.api, provider, children, logger)


def _render(provider: ProviderResource, context: OperatorContext) -> Children:
    settings = context.settings
    return render(provider, settings.otel_env, settings.images, settings.scaling)


def _span_attributes(body: kopf.Body) -> dict[str, str]:
    return {
        "chorus.provider": str(body.metadata.name),
        "k8s.namespace.name": str(body.metadata.namespace),
    }


def _owns(owner: Mapping[str, Any], child: Mapping[str, Any]) -> bool:
    """Whether `owner` is here to stay (not being deleted) and owns `child`."""
    meta = owner.get("metadata") or {}
    return not meta.get("deletionTimestamp") and owned_by(child, meta.get("uid", ""))


def _update_status(patch: kopf.Patch, current: Mapping[str, Any], fresh: dict[str, Any]) -> None:
    if _differs(current, fresh):
        patch.status.update(fresh)


def _differs(current: Mapping[str, Any], fresh: Mapping[str, Any]) -> bool:
    return any(current.get(key) != value for key, value in fresh.items())


def _context(memo: kopf.Memo) -> OperatorContext:
    context: OperatorContext = memo["context"]
    return context


def _now() -> datetime:
    # Kubernetes times have a resolution of one second.
    return datetime.now(UTC).replace(microsecond=0)
