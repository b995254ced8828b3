"""Which providers exist, in a cluster: TTSProvider resources, listed and watched read-only.

Only providers that are enabled, Ready and have a `status.url` are published; the rest (still
starting, disabled, deleted, malformed) are left out. A provider that scales to zero
(`autoscaling.minReplicas: 0`) is published Ready or not: while it has no replica the router
holds its requests until one is ready (speech/waking.py), which is what wakes it. Each
provider's replicas are the ready endpoints of its Service, from the EndpointSlices of the
namespace (also listed and watched), so that the router balances streams over them itself
instead of through kube-proxy's random spread; a Service with no ready endpoint known is
called at its own address. A watch that breaks is resumed with a fresh list after a backoff;
the last good list stays in force meanwhile. An API server that cannot be reached at start-up
(a control-plane blip, a rollout of the API server) does not stop the router: it starts with
no providers, says so in /readyz, and fills in once the list comes.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx2
from lightkube import ApiError, AsyncClient, Client, ConfigError, KubeConfig
from lightkube.config.models import Cluster, User
from lightkube.generic_resource import GenericNamespacedResource, create_namespaced_resource
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chorus_contracts import ProviderKind, RoutingPolicy
from chorus_router.routing.registry import (
    MAX_REPLICAS,
    ProviderEntry,
    Publish,
    RegistryError,
    SourceStatus,
)

log = logging.getLogger("chorus.router.kube_source")

SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")
IN_CLUSTER_API = "https://kubernetes.default.svc"
TTSProvider = create_namespaced_resource("chorus.dev", "v1alpha1", "TTSProvider", "ttsproviders")
EndpointSlice = create_namespaced_resource(
    "discovery.k8s.io", "v1", "EndpointSlice", "endpointslices"
)
SERVICE_NAME_LABEL = "kubernetes.io/service-name"
Resource = type[GenericNamespacedResource]
# What breaks a list or a watch: the API's answers, the network, a missing token file, a body
# that is not JSON (msgspec's DecodeError is a ValueError). lightkube 1.0.1 reads the
# Content-Type of an error answer and raises KeyError where there is none (a proxy's bare 503).
_BROKEN = (httpx2.HTTPError, ConfigError, ValueError, KeyError)


class _Lenient(BaseModel):
    # Only the fields the router needs; the operator owns the rest of the resource.
    model_config = ConfigDict(extra="ignore")


class _Metadata(_Lenient):
    name: str


class _Autoscaling(_Lenient):
    minReplicas: int = 1  # noqa: N815 (the API's field name)


class _Spec(_Lenient):
    kind: ProviderKind = "local"
    autoscaling: _Autoscaling | None = None
    enabled: bool = True
    models: list[str] = Field(default_factory=list)
    voices: dict[str, str] = Field(default_factory=dict)
    routing: RoutingPolicy = Field(default_factory=RoutingPolicy)


class _Condition(_Lenient):
    type: str
    status: str


class _Status(_Lenient):
    url: str | None = None
    conditions: list[_Condition] = Field(default_factory=list)

    @property
    def ready(self) -> bool:
        return any(c.type == "Ready" and c.status == "True" for c in self.conditions)


class _TTSProvider(_Lenient):
    metadata: _Metadata
    spec: _Spec
    status: _Status = Field(default_factory=_Status)


class _SliceEndpoint(_Lenient):
    addresses: list[str] = Field(default_factory=list)
    conditions: dict[str, bool | None] = Field(default_factory=dict)

    @property
    def ready(self) -> bool:
        # The API: "ready" unset means ready; a terminating endpoint is not ready.
        return self.conditions.get("ready") is not False


class _SlicePort(_Lenient):
    name: str | None = None
    port: int | None = None


class _EndpointSlice(_Lenient):
    addressType: str = "IPv4"  # noqa: N815 (the API's field name)
    endpoints: list[_SliceEndpoint] = Field(default_factory=list)
    ports: list[_SlicePort] = Field(default_factory=list)


Slices = dict[str, list[dict[str, Any]]]


def service_slices(slices: Iterable[dict[str, Any]]) -> Slices:
    """EndpointSlices by the name of the Service they belong to."""
    by_service: Slices = {}
    for body in slices:
        service = ((body.get("metadata") or {}).get("labels") or {}).get(SERVICE_NAME_LABEL)
        if service:
            by_service.setdefault(service, []).append(body)
    return by_service


def ready_endpoints(service_url: str, slices: list[dict[str, Any]]) -> list[str]:
    """The URLs of the Service's ready endpoints, sorted; empty when none is known."""
    scheme = urlsplit(service_url).scheme
    urls: set[str] = set()
    for body in slices:
        try:
            slice_ = _EndpointSlice.model_validate(body)
        except ValidationError:
            continue
        port = _serving_port(slice_.ports)
        if port is None or slice_.addressType not in ("IPv4", "IPv6"):
            continue
        for endpoint in slice_.endpoints:
            if endpoint.ready:
                hosts = (f"[{a}]" if ":" in a else a for a in endpoint.addresses)
                urls.update(f"{scheme}://{host}:{port}" for host in hosts)
    return sorted(urls)[:MAX_REPLICAS]


def _serving_port(ports: list[_SlicePort]) -> int | None:
    """The pods' port behind the Service: its only one, else the one named http."""
    if len(ports) == 1:
        return ports[0].port
    return next((p.port for p in ports if p.name == "http"), None)


def provider_entry(resource: dict[str, Any], slices: Slices | None = None) -> ProviderEntry | None:
    """The registry entry of one TTSProvider, with the ready endpoints of its Service (from
    `slices`, by Service name); None while the router must not route to it."""
    name = (resource.get("metadata") or {}).get("name", "?")
    try:
        provider = _TTSProvider.model_validate(resource)
        url = provider.status.url
        scales_to_zero = provider.spec.autoscaling is not None and (
            provider.spec.autoscaling.minReplicas == 0
        )
        if not (provider.spec.enabled and (provider.status.ready or scales_to_zero) and url):
            return None
        service = (urlsplit(url).hostname or "").split(".")[0]
        return ProviderEntry(
            name=provider.metadata.name,
            url=url,
            urls=ready_endpoints(url, (slices or {}).get(service, [])),
            models=provider.spec.models,
            voices=provider.spec.voices,
            routing=provider.spec.routing,
            kind=provider.spec.kind,
            scale_to_zero=scales_to_zero,
        )
    except ValidationError as exc:
        log.warning("ignoring TTSProvider %s: %s", name, exc)
        return None


class _Collection:
    """One kind's objects in the namespace: the last list, and the watch events since."""

    def __init__(self, resource: Resource, label: str) -> None:
        self.resource = resource
        self.label = label
        self.items: dict[str, dict[str, Any]] = {}
        # None: list (again) before watching.
        self.version: str | None = None
        self.listed = False
        self.error: str | None = None

    def replace(self, items: Iterable[GenericNamespacedResource], version: str) -> None:
        self.items = {}
        for item in items:
            body = dict(item)
            self.items[(body.get("metadata") or {}).get("name", "")] = body
        self.version = version
        self.listed = True
        self.error = None

    def apply(self, kind: str, resource: GenericNamespacedResource) -> None:
        body = dict(resource)
        meta = body.get("metadata") or {}
        if meta.get("resourceVersion"):
            self.version = meta["resourceVersion"]
        if kind in ("ADDED", "MODIFIED"):
            self.items[meta.get("name", "")] = body
        elif kind == "DELETED":
            self.items.pop(meta.get("name", ""), None)


class KubernetesRegistrySource:
    """Lists, then watches, the TTSProviders and EndpointSlices of one namespace (RBAC: list,
    watch).

    Defaults fit a pod: the in-cluster API, the service account's token, CA and namespace.
    A token file is read by each new client and again after a 401 (the kubelet rotates it).
    """

    def __init__(
        self,
        namespace: str | None = None,
        *,
        api_url: str = IN_CLUSTER_API,
        token: str | None = None,
        ca_file: Path | None = None,
        service_account_dir: Path = SERVICE_ACCOUNT_DIR,
        watch_timeout_s: float = 300.0,
        request_timeout_s: float = 10.0,
        backoff_initial_s: float = 0.5,
        backoff_max_s: float = 30.0,
    ) -> None:
        self.namespace = namespace or _read_namespace(service_account_dir)
        self._api_url = api_url.rstrip("/")
        self._config = _kubeconfig(
            self._api_url, self.namespace, token, ca_file, service_account_dir
        )
        self._watch_timeout_s = watch_timeout_s
        self._timeout = httpx2.Timeout(request_timeout_s)
        self._backoff_initial_s = backoff_initial_s
        self._backoff_max_s = backoff_max_s
        self._providers = _Collection(TTSProvider, "TTSProviders")
        self._slices = _Collection(EndpointSlice, "EndpointSlices")
        self._published: list[ProviderEntry] | None = None

    def initial(self) -> list[ProviderEntry]:
        """The providers to route to at start-up: none yet when the API cannot be reached."""
        listing_now = self._providers
        try:
            with Client(self._config, timeout=self._timeout) as client:
                for listing_now in (self._providers, self._slices):
                    listing = client.list(listing_now.resource)
                    items = list(listing)  # the version is known once the list is read
                    listing_now.replace(items, listing.resourceVersion)
        except _BROKEN as exc:
            self._failed(listing_now, exc)
            log.warning(
                "starting with no providers: %s; listing again in the background",
                listing_now.error,
            )
            return []
        self._published = self.entries()
        return self._published

    def status(self) -> SourceStatus:
        error = self._providers.error or self._slices.error
        return SourceStatus("kubernetes", synced=self._published is not None, error=error)

    async def watch(self, publish: Publish) -> None:
        """Publish the whole list whenever it changes; runs until cancelled."""
        async with (
            AsyncClient(self._config, timeout=self._timeout) as client,
            asyncio.TaskGroup() as group,
        ):
            for collection in (self._providers, self._slices):
                group.create_task(self._keep_current(client, collection, publish))

    def entries(self) -> list[ProviderEntry]:
        slices = service_slices(self._slices.items.values())
        found = (provider_entry(body, slices) for _, body in sorted(self._providers.items.items()))
        return [entry for entry in found if entry is not None]

    async def _keep_current(
        self, client: AsyncClient, collection: _Collection, publish: Publish
    ) -> None:
        """List, then follow the watch; a watch that breaks is resumed after a backoff."""
        backoff = self._backoff_initial_s
        while True:
            try:
                if collection.version is None:
                    listing = client.list(collection.resource)
                    items = [item async for item in listing]
                    collection.replace(items, listing.resourceVersion)
                    self._publish_if_changed(publish)
                await self._follow(client, collection, publish)
                backoff = self._backoff_initial_s
            except _BROKEN as exc:
                if _expired(exc):
                    log.info("%s watch expired; listing again", collection.label)
                    collection.version = None
                    continue
                self._failed(collection, exc)
                delay = backoff * random.uniform(0.5, 1.0)
                log.warning(
                    "%s watch broke (%s); keeping the last %d providers, listing again in %.1fs",
                    collection.label,
                    collection.error,
                    len(self._published or []),
                    delay,
                )
                collection.version = None
                await asyncio.sleep(delay)
                backoff = min(backoff * 2, self._backoff_max_s)

    def _failed(self, collection: _Collection, exc: Exception) -> None:
        reason = str(exc) or type(exc).__name__
        collection.error = (
            f"cannot list {collection.label} in {self.namespace} at {self._api_url}: {reason}"
        )

    async def _follow(self, client: AsyncClient, collection: _Collection, publish: Publish) -> None:
        """Apply watch events from the last resource version on, for one watch's time.

        lightkube opens a new watch when the server ends one (its timeout); a connection that
        died without a word (no event, no close) ends here, and the next watch resumes.
        """
        events = client.watch(
            collection.resource,
            resource_version=collection.version,
            server_timeout=int(self._watch_timeout_s),
        )
        try:
            async with asyncio.timeout(self._watch_timeout_s + 30):
                async for kind, resource in events:
                    collection.apply(kind, resource)
                    self._publish_if_changed(publish)
        except TimeoutError:
            return

    def _publish_if_changed(self, publish: Publish) -> None:
        if not self._providers.listed:
            return  # endpoints alone say nothing about which providers exist
        entries = self.entries()
        if entries != self._published:
            self._published = entries
            log.info("providers from the cluster: %s", ", ".join(e.name for e in entries) or "none")
            publish(entries)


def _kubeconfig(
    api_url: str, namespace: str, token: str | None, ca_file: Path | None, account: Path
) -> KubeConfig:
    """The API, its CA and the credentials: a fixed token, else the pod's token file."""
    default_ca = account / "ca.crt"
    ca = ca_file or (default_ca if default_ca.is_file() else None)
    cluster = Cluster(server=api_url, certificate_auth=None if ca is None else str(ca))
    if token is not None:
        user = User(token=token)
    elif (account / "token").is_file():
        user = User(token_file=str(account / "token"))
    else:
        user = User()
    return KubeConfig.from_one(cluster=cluster, user=user, namespace=namespace)


def _expired(exc: Exception) -> bool:
    """410 Gone: the resource version is too old to watch from; list again (no backoff)."""
    if isinstance(exc, ApiError):  # an ERROR event in the watch carries no response
        return exc.status.code == 410
    return isinstance(exc, httpx2.HTTPStatusError) and exc.response.status_code == 410


def _read_namespace(service_account_dir: Path) -> str:
    try:
        return (service_account_dir / "namespace").read_text(encoding="utf-8").strip()
    except OSError:
        raise RegistryError(
            "no Kubernetes namespace configured, and no service account to read it from"
        ) from None
