"""The router discovers providers from TTSProvider resources (kmock's Kubernetes API):
it routes to one as soon as it is Ready and stops when it is disabled."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import kmock
import pytest
from openai import AsyncOpenAI

from support.processes import ServiceProcess, free_port
from support.tone_stack import start_tone_provider

pytestmark = pytest.mark.timeout(90)

NAMESPACE = "voices"
PROVIDERS = "chorus.dev/v1alpha1/ttsproviders"
COLLECTION = f"/apis/chorus.dev/v1alpha1/namespaces/{NAMESPACE}/ttsproviders"


def _resource(name: str, url: str, priority: int) -> dict[str, Any]:
    return {
        "apiVersion": "chorus.dev/v1alpha1",
        "kind": "TTSProvider",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {
            "kind": "local",
            "enabled": True,
            "image": "chorus-tone:test",
            "models": ["tts-1"],
            "voices": {"alloy": "low" if name == "primary" else "high"},
            "routing": {"priority": priority},
        },
        "status": {"url": url, "conditions": [{"type": "Ready", "status": "False"}]},
    }


async def _send(api: kmock.KubernetesEmulator, method: str, path: str, body: Any) -> None:
    async with api.request(method, path, json=body) as response:
        assert response.status < 300, await response.text()


async def _eventually(
    check: Callable[[], Awaitable[bool]], what: str, timeout_s: float = 30
) -> None:
    """Poll without blocking the loop: kmock serves the router from this same loop."""
    deadline = time.monotonic() + timeout_s
    while not await check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)


async def _answers(url: str) -> bool:
    async with httpx.AsyncClient(timeout=1) as http:
        try:
            return (await http.get(url)).status_code == 200
        except httpx.HTTPError:
            return False


@pytest.fixture
async def processes(tmp_path: Path) -> AsyncIterator[list[ServiceProcess]]:
    started: list[ServiceProcess] = []
    yield started
    for proc in started:
        proc.stop()


async def test_router_follows_ttsproviders_readiness_and_enablement(
    kmock: kmock.KubernetesEmulator, processes: list[ServiceProcess], tmp_path: Path
) -> None:
    kmock.resources[PROVIDERS] = kmock.ResourceInfo(kind="TTSProvider", namespaced=True)
    primary = start_tone_provider("primary", tmp_path)
    fallback = start_tone_provider("fallback", tmp_path)
    processes += [primary, fallback]
    for name, proc, priority in (("primary", primary, 20), ("fallback", fallback, 10)):
        await _send(kmock, "POST", COLLECTION, _resource(name, proc.url, priority))
    await _send(
        kmock,
        "PATCH",
        f"{COLLECTION}/fallback/status",
        {"status": {"conditions": [{"type": "Ready", "status": "True"}]}},
    )

    port = free_port()
    router = ServiceProcess(
        "router",
        "chorus_router",
        port,
        {
            "CHORUS_ROUTER_PORT": str(port),
            "CHORUS_ROUTER_REGISTRY_SOURCE": "kubernetes",
            "CHORUS_ROUTER_KUBERNETES_NAMESPACE": NAMESPACE,
            "CHORUS_ROUTER_KUBERNETES_API_URL": str(kmock.url),
            "CHORUS_ROUTER_KUBERNETES_TOKEN": "router-token",
            "CHORUS_ROUTER_PROVIDER_POLL_INTERVAL_S": "0.25",
        },
        tmp_path,
    ).start()
    processes.append(router)

    async def router_ready() -> bool:
        assert router.alive(), router.log()
        return await _answers(f"{router.url}/readyz")

    await _eventually(router_ready, "the router to be ready")
    client = AsyncOpenAI(base_url=f"{router.url}/v1", api_key="local", max_retries=0)

    async def served_by() -> str:
        response = await client.audio.speech.with_raw_response.create(
            model="tts-1", voice="alloy", input="One two three.", response_format="pcm"
        )
        return response.headers["x-chorus-provider"]

    assert await served_by() == "fallback", "a provider that is not Ready is not routed to"

    await _send(
        kmock,
        "PATCH",
        f"{COLLECTION}/primary/status",
        {"status": {"conditions": [{"type": "Ready", "status": "True"}]}},
    )

    async def primary_serves() -> bool:
        return await served_by() == "primary"

    await _eventually(primary_serves, "the Ready primary to take requests")

    await _send(kmock, "PATCH", f"{COLLECTION}/primary", {"spec": {"enabled": False}})

    async def fallback_serves() -> bool:
        return await served_by() == "fallback"

    await _eventually(fallback_serves, "the disabled primary to be left")
    models = await client.models.list()
    assert [m.id for m in models.data] == ["tts-1"]
