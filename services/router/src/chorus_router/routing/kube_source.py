"""Which providers exist, in a cluster: TTSProvider resources, listed and watched read-only.

Only providers that are enabled, Ready and have a `status.url` are published; the rest (still
starting, disabled, deleted, malformed) are left out. A watch that breaks is resumed with a
fresh list after a backoff; the last good list stays in force meanwhile. An API server that
cannot be reached at start-up (a control-plane blip, a rollout of the API server) does not stop
the router: it starts with no providers, says so in /readyz, and fills in once the list comes.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import httpx2
from lightkube import ApiError, AsyncClient, Client, ConfigError, KubeConfig
from lightkube.config.models import Cluster, User
from lightkube.generic_resource import GenericNamespacedResource, create_namespaced_resource
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chorus_contracts import ProviderKind, RoutingPolicy
from chorus_router.routing.registry import ProviderEntry, Publish, RegistryError, SourceStatus

log = logging.getLogger("chorus.router.kube_source")

SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")
IN_CLUSTER_API = "https://kubernetes.default.svc"
TTSProvider = create_namespaced_resource("chorus.dev", "v1alpha1", "TTSProvider", "ttsproviders")
# What breaks a list or a watch: the API's answers, the network, a missing token file, a body
# that is not JSON (msgspec's DecodeError is a ValueError). lightkube 1.0.1 reads the
# Content-Type of an error answer and raises KeyError where there is none (a proxy's bare 503).
_BROKEN = (httpx2.HTTPError, ConfigError, ValueError, KeyError)


class _Lenient(BaseModel):
    # Only the fields the router needs; the operator owns the rest of the resource.
    model_config = ConfigDict(extra="ignore")


class _Metadata(_Lenient):
    name: str


class _Spec(_Lenient):
    kind: ProviderKind = "local"
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


def provider_entry(resource: dict[str, Any]) -> ProviderEntry | None:
    """The registry entry of one TTSProvider, or None while the router must not route to it."""
    name = (resource.get("metadata") or {}).get("name", "?")
    try:
        provider = _TTSProvider.model_validate(resource)
        if not (provider.spec.enabled and provider.status.ready and provider.status.url):
            return None
        return ProviderEntry(
            name=provider.metadata.name,
            url=provider.status.url,
            models=provider.spec.models,
            voices=provider.spec.voices,
            routing=provider.spec.routing,
            kind=provider.spec.kind,
        )
    except ValidationError as exc:
        log.warning("ignoring TTSProvider %s: %s", name, exc)
        return None


class KubernetesRegistrySource:
    """Lists, then watches, the TTSProviders of one namespace (RBAC: list, watch).

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
        self._entries: dict[str, ProviderEntry | None] = {}
        self._resource_version: str | None = None
        self._published: list[ProviderEntry] | None = None
        self._error: str | None = None

    def initial(self) -> list[ProviderEntry]:
        """The providers to route to at start-up: none yet when the API cannot be reached."""
        try:
            with Client(self._config, timeout=self._timeout) as client:
                listing = client.list(TTSProvider)
                items = list(listing)  # the version is known once the list is read
                self._replace(items, listing.resourceVersion)
        except _BROKEN as exc:
            self._failed(exc)
            log.warning(
                "starting with no providers: %s; listing again in the background", self._error
            )
            return []
        self._published = self.entries()
        self._error = None
        return self._published

    def status(self) -> SourceStatus:
        return SourceStatus("kubernetes", synced=self._published is not None, error=self._error)

    async def watch(self, publish: Publish) -> None:
        """Publish the whole list whenever it changes; runs until cancelled."""
        backoff = self._backoff_initial_s
        async with AsyncClient(self._config, timeout=self._timeout) as client:
            while True:
                try:
                    if self._resource_version is None:
                        listing = client.list(TTSProvider)
                        items = [item async for item in listing]
                        self._replace(items, listing.resourceVersion)
                        self._error = None
                        self._publish_if_changed(publish)
                    await self._follow(client, publish)
                    backoff = self._backoff_initial_s
                except _BROKEN as exc:
                    if _expired(exc):
                        log.info("TTSProvider watch expired; listing again")
                        self._resource_version = None
                        continue
                    self._failed(exc)
                    delay = backoff * random.uniform(0.5, 1.0)
                    log.warning(
                        "TTSProvider watch broke (%s); keeping the last %d providers, "
                        "listing again in %.1fs",
                        self._error,
                        len(self._published or []),
                        delay,
                    )
                    self._resource_version = None
                    await asyncio.sleep(delay)
                    backoff = min(backoff * 2, self._backoff_max_s)

    def _failed(self, exc: Exception) -> None:
        reason = str(exc) or type(exc).__name__
        self._error = f"cannot list TTSProviders in {self.namespace} at {self._api_url}: {reason}"

    def entries(self) -> list[ProviderEntry]:
        return [entry for _, entry in sorted(self._entries.items()) if entry is not None]

    async def _follow(self, client: AsyncClient, publish: Publish) -> None:
        """Apply watch events from the last resource version on, for one watch's time.

        lightkube opens a new watch when the server ends one (its timeout); a connection that
        died without a word (no event, no close) ends here, and the next watch resumes.
        """
        events = client.watch(
            TTSProvider,
            resource_version=self._resource_version,
            server_timeout=int(self._watch_timeout_s),
        )
        try:
            async with asyncio.timeout(self._watch_timeout_s + 30):
                async for kind, resource in events:
                    self._apply(kind, resource, publish)
        except TimeoutError:
            return

    def _apply(self, kind: str, resource: GenericNamespacedResource, publish: Publish) -> None:
        body = dict(resource)
        meta = body.get("metadata") or {}
        if meta.get("resourceVersion"):
            self._resource_version = meta["resourceVersion"]
        if kind in ("ADDED", "MODIFIED"):
            self._entries[meta.get("name", "")] = provider_entry(body)
        elif kind == "DELETED":
            self._entries.pop(meta.get("name", ""), None)
        self._publish_if_changed(publish)

    def _replace(self, items: Iterable[GenericNamespacedResource], version: str) -> None:
        self._entries = {}
        for item in items:
            body = dict(item)
            self._entries[(body.get("metadata") or {}).get("name", "")] = provider_entry(body)
        self._resource_version = version

    def _publish_if_changed(self, publish: Publish) -> None:
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
