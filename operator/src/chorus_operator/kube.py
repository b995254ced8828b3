"""The few Kubernetes API calls the operator makes itself: get, create, patch, delete children.

kopf watches and patches the TTSProviders; children are plain JSON over one httpx client that
logs in the same way kopf does (service account in the cluster, else a kubeconfig).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import kopf

from chorus_operator.naming import KIND, PLURAL

Body = dict[str, Any]
Connect = Callable[[], kopf.ConnectionInfo]

PLURALS = {
    "Deployment": "deployments",
    "Service": "services",
    "HorizontalPodAutoscaler": "horizontalpodautoscalers",
    "PodDisruptionBudget": "poddisruptionbudgets",
    KIND: PLURAL,
}


class KubeApiError(Exception):
    """The API server refused a call; kopf retries the handler that made it."""


class AlreadyExists(KubeApiError):
    """409 on create: someone else made the object first."""


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

    def __init__(self, connect: Connect) -> None:
        self._connect = connect
        self._client = self._new_client()

    async def get(self, path: str) -> Body | None:
        response = await self._request("GET", path)
        return None if response.status_code == 404 else _json(response)

    async def create(self, path: str, body: Body) -> Body:
        response = await self._request("POST", path, body)
        if response.status_code == 409:
            raise AlreadyExists(f"409: {_message(response)}")
        return _json(response)

    async def merge_patch(self, path: str, patch: Body) -> Body:
        return _json(await self._request("PATCH", path, patch))

    async def delete(self, path: str) -> None:
        response = await self._request("DELETE", path)
        if response.status_code != 404:
            _json(response)

    async def aclose(self) -> None:
        await self._client.aclose()

    def _new_client(self) -> httpx.AsyncClient:
        info = self._connect()
        return httpx.AsyncClient(
            base_url=info.server,
            verify=info.as_ssl_context(),
            headers=info.as_http_headers(),
            proxy=info.proxy_url,
            trust_env=info.trust_env,
            timeout=httpx.Timeout(30.0, connect=5.0),
        )

    async def _request(self, method: str, path: str, body: Body | None = None) -> httpx.Response:
        headers = {"Content-Type": "application/merge-patch+json"} if method == "PATCH" else {}
        response = await self._client.request(method, path, json=body, headers=headers)
        if response.status_code == 401:
            await self._client.aclose()
            self._client = self._new_client()
            response = await self._client.request(method, path, json=body, headers=headers)
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
