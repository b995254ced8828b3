"""Which providers exist, in a cluster: TTSProvider resources, listed and watched read-only.

Only providers that are enabled, Ready and have a `status.url` are published; the rest (still
starting, disabled, deleted, malformed) are left out. A watch that breaks is resumed with a
fresh list after a backoff; the last good list stays in force meanwhile. An API server that
cannot be reached at start-up (a control-plane blip, a rollout of the API server) does not stop
the router: it starts with no providers, says so in /readyz, and fills in once the list comes.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import ssl
from collections.abc import Generator
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chorus_contracts import ProviderKind, RoutingPolicy
from chorus_router.routing.registry import ProviderEntry, Publish, RegistryError, SourceStatus

log = logging.getLogger("chorus.router.kube_source")

SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")
IN_CLUSTER_API = "https://kubernetes.default.svc"
RESOURCE = "apis/chorus.dev/v1alpha1"


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


class _Expired(Exception):
    """410 Gone: the resource version is too old to watch from; list again."""


class _ApiError(Exception):
    """The API server answered with an error."""


class _ServiceAccountToken(httpx.Auth):
    """A fixed token, or the pod's token file read on every request (kubelet rotates it)."""

    def __init__(self, token: str | None, token_file: Path) -> None:
        self._token = token
        self._token_file = token_file

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = self._token
        if token is None and self._token_file.is_file():
            token = self._token_file.read_text(encoding="utf-8").strip()
        if token:
            request.headers["Authorization"] = f"Bearer {token}"
        yield request


class KubernetesRegistrySource:
    """Lists, then watches, the TTSProviders of one namespace (RBAC: get, list, watch).

    Defaults fit a pod: the in-cluster API, the service account's token, CA and namespace.
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
        self._path = f"/{RESOURCE}/namespaces/{self.namespace}/ttsproviders"
        self._auth = _ServiceAccountToken(token, service_account_dir / "token")
        default_ca = service_account_dir / "ca.crt"
        self._ca_file = ca_file or (default_ca if default_ca.is_file() else None)
        self._watch_timeout_s = watch_timeout_s
        self._request_timeout_s = request_timeout_s
        self._backoff_initial_s = backoff_initial_s
        self._backoff_max_s = backoff_max_s
        self._entries: dict[str, ProviderEntry | None] = {}
        self._resource_version: str | None = None
        self._published: list[ProviderEntry] | None = None
        self._error: str | None = None

    def initial(self) -> list[ProviderEntry]:
        """The providers to route to at start-up: none yet when the API cannot be reached."""
        try:
            with httpx.Client(**self._client_options()) as client:
                self._replace(_checked(client.get(self._path)))
        except (httpx.HTTPError, _ApiError, ValueError) as exc:
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
        async with httpx.AsyncClient(**self._client_options()) as client:
            while True:
                try:
                    if self._resource_version is None:
                        self._replace(_checked(await client.get(self._path)))
                        self._error = None
                        self._publish_if_changed(publish)
                    await self._follow(client, publish)
                    backoff = self._backoff_initial_s
                except _Expired:
                    log.info("TTSProvider watch expired; listing again")
                    self._resource_version = None
                except (httpx.HTTPError, _ApiError, ValueError) as exc:
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

    async def _follow(self, client: httpx.AsyncClient, publish: Publish) -> None:
        """Apply watch events until the server ends the stream (its timeout) or it breaks."""
        params = {
            "watch": "true",
            "allowWatchBookmarks": "true",
            "resourceVersion": self._resource_version or "",
            "timeoutSeconds": str(int(self._watch_timeout_s)),
        }
        # Reads wait past the server's own timeout, so only a dead connection times out here.
        timeout = httpx.Timeout(self._request_timeout_s, read=self._watch_timeout_s + 30)
        async with client.stream("GET", self._path, params=params, timeout=timeout) as response:
            if response.status_code == 410:
                raise _Expired
            if response.is_error:
                await response.aread()
                _checked(response)
            async for line in response.aiter_lines():
                if line.strip():
                    self._apply(json.loads(line), publish)

    def _apply(self, event: dict[str, Any], publish: Publish) -> None:
        kind = event.get("type")
        resource = event.get("object") or {}
        if kind == "ERROR":
            if resource.get("code") == 410:
                raise _Expired
            raise _ApiError(resource.get("message") or "error event in the watch")
        meta = resource.get("metadata") or {}
        if meta.get("resourceVersion"):
            self._resource_version = meta["resourceVersion"]
        if kind in ("ADDED", "MODIFIED"):
            self._entries[meta.get("name", "")] = provider_entry(resource)
        elif kind == "DELETED":
            self._entries.pop(meta.get("name", ""), None)
        else:
            return  # BOOKMARK: only the resource version moves
        self._publish_if_changed(publish)

    def _replace(self, listing: dict[str, Any]) -> None:
        self._entries = {
            (item.get("metadata") or {}).get("name", ""): provider_entry(item)
            for item in listing.get("items") or []
        }
        self._resource_version = (listing.get("metadata") or {}).get("resourceVersion")

    def _publish_if_changed(self, publish: Publish) -> None:
        entries = self.entries()
        if entries != self._published:
            self._published = entries
            log.info("providers from the cluster: %s", ", ".join(e.name for e in entries) or "none")
            publish(entries)

    def _client_options(self) -> dict[str, Any]:
        verify: ssl.SSLContext | bool = True
        if self._ca_file is not None:
            verify = ssl.create_default_context(cafile=str(self._ca_file))
        return {
            "base_url": self._api_url,
            "auth": self._auth,
            "verify": verify,
            "timeout": httpx.Timeout(self._request_timeout_s),
        }


def _checked(response: httpx.Response) -> dict[str, Any]:
    if response.is_error:
        raise _ApiError(f"{response.status_code} {response.text[:200]}")
    body: dict[str, Any] = response.json()
    return body


def _read_namespace(service_account_dir: Path) -> str:
    try:
        return (service_account_dir / "namespace").read_text(encoding="utf-8").strip()
    except OSError:
        raise RegistryError(
            "no Kubernetes namespace configured, and no service account to read it from"
        ) from None
