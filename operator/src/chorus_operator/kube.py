"""The few Kubernetes API calls the operator makes itself: get, apply, patch, delete children.

kopf watches and patches the TTSProviders; children are plain JSON over one httpx client that
logs in the same way kopf does (service account in the cluster, else a kubeconfig).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import kopf
from opentelemetry.sdk.trace import TracerProvider

from chorus_operator.naming import KIND, PLURAL
from chorus_telemetry import instrument_client

Body = dict[str, Any]
Connect = Callable[[], kopf.ConnectionInfo]

APPLY_PATCH = "application/apply-patch+yaml"
MERGE_PATCH = "application/merge-patch+json"

PLURALS = {
    "Deployment": "deployments",
    "Service": "services",
    "HorizontalPodAutoscaler": "horizontalpodautoscalers",
    "PodDisruptionBudget": "poddisruptionbudgets",
    KIND: PLURAL,
}


class KubeApiError(Exception):
    """The API server refused a call; kopf retries the handler that made it."""


def find_connection(settings: kopf.OperatorSettings) -> kopf.ConnectionInfo | None:
    """The pod's service account inside the cluster; a kubeconfig elsewhere (dev, tests)."""
    return kopf.login_with_service_account(settings=settings) or kopf.login_with_kubeconfig(
        settings=settings
    )


def collection_path(api_version: str, kind: str, namespace: str) -> str:
    root = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
    return f"{root}/namespaces/{namespace}/{PLURALS[kind]}"


def object_path(api_version: str, kind: str, namespace: str, name: str) -> str:
    return f"{collection_path(api_version, kind, namespace)}/{name}"


class KubeApi:
    """JSON in, JSON out; a 401 reconnects once, because service-account tokens rotate."""

    def __init__(self, connect: Connect, tracing: TracerProvider | None = None) -> None:
        self._connect = connect
        self._tracing = tracing
        self._client = self._new_client()

    async def get(self, path: str) -> Body | None:
        response = await self._request("GET", path)
        return None if response.status_code == 404 else _json(response)

    async def apply(self, path: str, body: Body, *, field_manager: str, force: bool) -> Body:
        """Server-side apply of `body` as `field_manager` (creates the object when missing)."""
        params = {"fieldManager": field_manager, "force": "true" if force else "false"}
        return _json(await self._request("PATCH", path, body, APPLY_PATCH, params))

    async def merge_patch(self, path: str, patch: Body) -> Body:
        return _json(await self._request("PATCH", path, patch, MERGE_PATCH))

    async def delete(self, path: str) -> None:
        response = await self._request("DELETE", path)
        if response.status_code != 404:
            _json(response)

    async def aclose(self) -> None:
        await self._client.aclose()

    def _new_client(self) -> httpx.AsyncClient:
        info = self._connect()
        client = httpx.AsyncClient(
            base_url=info.server,
            verify=info.as_ssl_context(),
            headers=info.as_http_headers(),
            proxy=info.proxy_url,
            trust_env=info.trust_env,
            timeout=httpx.Timeout(30.0, connect=5.0),
        )
        # Each API call is a client span under the handler's span.
        instrument_client(client, self._tracing)
        return client

    async def _request(
        self,
        method: str,
        path: str,
        body: Body | None = None,
        content_type: str | None = None,
        params: dict[str, str] | None = None,
    ) -> httpx.Response:
        headers = {"Content-Type": content_type} if content_type else {}
        # JSON is YAML: an apply patch may be sent as JSON under the YAML content type.
        content = None if body is None else json.dumps(body).encode()
        response = await self._client.request(
            method, path, content=content, headers=headers, params=params
        )
        if response.status_code == 401:
            await self._client.aclose()
            self._client = self._new_client()
            response = await self._client.request(
                method, path, content=content, headers=headers, params=params
            )
        return response


def _json(response: httpx.Response) -> Body:
    if response.is_error:
        raise KubeApiError(f"{response.status_code}: {_message(response)}")
    body: Body = response.json()
    return body


def _message(response: httpx.Response) -> str:
    try:
        return str(response.json().get("message", response.text))
    except ValueError:
        return response.text
