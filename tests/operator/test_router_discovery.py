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
from support.rbac import granted, requested
from support.tone_stack import start_tone_provider

# Generous: three Python services start per test, on a CI machine shared with other jobs.
pytestmark = pytest.mark.timeout(180)

NAMESPACE = "voices"
PROVIDERS = "chorus.dev/v1alpha1/ttsproviders"
SLICES = "discovery.k8s.io/v1/endpointslices"
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


def _start_router(api_url: str, logs: Path) -> ServiceProcess:
    port = free_port()
    settings = {
        "CHORUS_ROUTER_PORT": str(port),
        "CHORUS_ROUTER_REGISTRY_SOURCE": "kubernetes",
        "CHORUS_ROUTER_KUBERNETES_NAMESPACE": NAMESPACE,
        "CHORUS_ROUTER_KUBERNETES_API_URL": api_url.rstrip("/"),
        "CHORUS_ROUTER_KUBERNETES_TOKEN": "router-token",
        "CHORUS_ROUTER_PROVIDER_POLL_INTERVAL_S": "0.25",
    }
    return ServiceProcess("router", "chorus_router", port, settings, logs).start()


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
    kmock.resources[SLICES] = kmock.ResourceInfo(kind="EndpointSlice", namespaced=True)
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

    router = _start_router(str(kmock.url), tmp_path)
    processes.append(router)

    async def router_ready() -> bool:
        assert router.alive(), router.log()
        return await _answers(f"{router.url}/readyz")

    await _eventually(router_ready, "the router to be ready", timeout_s=90)
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
    # What the router asked the API for is exactly what the chart's Role grants it.
    assert requested(kmock, "router-token") == granted("chorus-router")


async def test_router_starts_while_the_api_server_is_down_and_fills_in_when_it_answers(
    processes: list[ServiceProcess], tmp_path: Path
) -> None:
    tone = start_tone_provider("primary", tmp_path)
    processes.append(tone)
    api_port = free_port()
    router = _start_router(f"http://127.0.0.1:{api_port}", tmp_path)
    processes.append(router)

    async def alive() -> bool:
        assert router.alive(), router.log()
        return await _answers(f"{router.url}/healthz")

    await _eventually(alive, "the router to start without an API server", timeout_s=90)
    async with httpx.AsyncClient(timeout=2) as http:
        waiting = await http.get(f"{router.url}/readyz")
    assert waiting.status_code == 503
    registry = waiting.json()["registry"]
    assert (registry["source"], registry["synced"]) == ("kubernetes", False)
    assert "cannot list TTSProviders" in registry["error"]

    async with kmock.KubernetesEmulator() as api, kmock.Server(api, port=api_port):
        api.resources[PROVIDERS] = kmock.ResourceInfo(kind="TTSProvider", namespaced=True)
        api.resources[SLICES] = kmock.ResourceInfo(kind="EndpointSlice", namespaced=True)
        resource = _resource("primary", tone.url, 20)
        resource["status"]["conditions"][0]["status"] = "True"
        await _send(api, "POST", COLLECTION, resource)

        await _eventually(lambda: _answers(f"{router.url}/readyz"), "the router to fill in")
        client = AsyncOpenAI(base_url=f"{router.url}/v1", api_key="local", max_retries=0)
        response = await client.audio.speech.with_raw_response.create(
            model="tts-1", voice="alloy", input="One two three.", response_format="pcm"
        )
        assert response.headers["x-chorus-provider"] == "primary"
        router.stop()  # before the API server: it waits for open watches to end
