"""The router's view of TTSProviders, against kmock's emulated Kubernetes API on 127.0.0.1."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import kmock
import pytest

from chorus_router.routing.kube_source import KubernetesRegistrySource
from chorus_router.routing.registry import ProviderEntry, RegistryError
from support.processes import free_port

pytestmark = pytest.mark.timeout(30)

NAMESPACE = "voices"
PROVIDERS = "chorus.dev/v1alpha1/ttsproviders"
COLLECTION = f"/apis/chorus.dev/v1alpha1/namespaces/{NAMESPACE}/ttsproviders"
SLICES = "discovery.k8s.io/v1/endpointslices"
SLICE_COLLECTION = f"/apis/discovery.k8s.io/v1/namespaces/{NAMESPACE}/endpointslices"
WATCH = f"watch {PROVIDERS}"


def _provider(
    name: str, *, ready: bool = True, enabled: bool = True, url: str | None = "auto"
) -> dict[str, Any]:
    status: dict[str, Any] = {
        "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
    }
    if url is not None:
        status["url"] = f"http://chorus-provider-{name}.voices.svc:8080" if url == "auto" else url
    return {
        "apiVersion": "chorus.dev/v1alpha1",
        "kind": "TTSProvider",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {
            "kind": "local",
            "enabled": enabled,
            "image": f"chorus-{name}:0.1.0",
            "models": [name, "tts-1"],
            "voices": {"alloy": f"{name}-voice"},
            "routing": {"priority": 10, "fallback": ["espeak"], "retry": {"attempts": 3}},
        },
        "status": status,
    }


def _slice(service: str, name: str, endpoints: dict[str, bool]) -> dict[str, Any]:
    """An EndpointSlice of `service`: pod IP -> ready, on the provider's port."""
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "name": name,
            "namespace": NAMESPACE,
            "labels": {"kubernetes.io/service-name": service},
        },
        "addressType": "IPv4",
        "endpoints": [
            {"addresses": [ip], "conditions": {"ready": ready}} for ip, ready in endpoints.items()
        ],
        "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
    }


def _serve_kinds(api: kmock.KubernetesEmulator) -> None:
    api.resources[PROVIDERS] = kmock.ResourceInfo(kind="TTSProvider", namespaced=True)
    api.resources[SLICES] = kmock.ResourceInfo(kind="EndpointSlice", namespaced=True)


@pytest.fixture
def api(kmock: kmock.KubernetesEmulator) -> kmock.KubernetesEmulator:
    _serve_kinds(kmock)
    return kmock


def _source(api: kmock.KubernetesEmulator, **options: Any) -> KubernetesRegistrySource:
    return KubernetesRegistrySource(
        NAMESPACE,
        api_url=str(api.url),
        token="router-token",
        backoff_initial_s=0.05,
        backoff_max_s=0.2,
        **options,
    )


async def _send(api: kmock.KubernetesEmulator, method: str, path: str, body: Any = None) -> None:
    async with api.request(method, path, json=body) as response:
        assert response.status < 300, await response.text()


async def _eventually(check: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


class Published:
    """What the source has published, in order; `latest` is what the router would route to."""

    def __init__(self) -> None:
        self.lists: list[list[ProviderEntry]] = []

    def __call__(self, entries: list[ProviderEntry]) -> None:
        self.lists.append(entries)

    def names(self) -> list[str] | None:
        return [e.name for e in self.lists[-1]] if self.lists else None


@pytest.fixture
async def watching(api: kmock.KubernetesEmulator) -> AsyncIterator[Published]:
    published = Published()
    source = _source(api)
    published(await asyncio.to_thread(source.initial))
    task = asyncio.create_task(source.watch(published))
    try:
        yield published
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_only_enabled_ready_providers_with_a_url_are_routed_to(
    api: kmock.KubernetesEmulator,
) -> None:
    for resource in (
        _provider("kokoro"),
        _provider("piper", ready=False),
        _provider("espeak", enabled=False),
        _provider("openai", url=None),
        {**_provider("broken"), "spec": {"kind": "local", "models": []}},
    ):
        await _send(api, "POST", COLLECTION, resource)

    (entry,) = await asyncio.to_thread(_source(api).initial)

    assert entry == ProviderEntry(
        name="kokoro",
        url="http://chorus-provider-kokoro.voices.svc:8080",
        models=["kokoro", "tts-1"],
        voices={"alloy": "kokoro-voice"},
        routing={"priority": 10, "fallback": ["espeak"], "retry": {"attempts": 3}},
    )


async def test_a_provider_that_scales_to_zero_is_routed_to_while_it_has_no_replica(
    api: kmock.KubernetesEmulator,
) -> None:
    idle = _provider("qwen", ready=False)
    idle["spec"]["autoscaling"] = {"minReplicas": 0, "maxReplicas": 2}
    await _send(api, "POST", COLLECTION, idle)

    (entry,) = await asyncio.to_thread(_source(api).initial)

    assert entry.name == "qwen"
    assert entry.scale_to_zero, "its requests are held while it wakes"
    assert entry.endpoints == ["http://chorus-provider-qwen.voices.svc:8080"]


async def test_providers_appear_when_ready_and_leave_when_disabled_or_deleted(
    api: kmock.KubernetesEmulator, watching: Published
) -> None:
    await _send(api, "POST", COLLECTION, _provider("kokoro", ready=False))
    # Watch events come in order: once piper, added after it, is routed to, kokoro was seen.
    await _send(api, "POST", COLLECTION, _provider("piper"))
    await _eventually(lambda: watching.names() == ["piper"])
    assert all("kokoro" not in (e.name for e in entries) for entries in watching.lists)

    ready = {"status": {"conditions": [{"type": "Ready", "status": "True"}]}}
    await _send(api, "PATCH", f"{COLLECTION}/kokoro/status", ready)
    await _eventually(lambda: watching.names() == ["kokoro", "piper"])

    await _send(api, "PATCH", f"{COLLECTION}/kokoro", {"spec": {"enabled": False}})
    await _eventually(lambda: watching.names() == ["piper"])

    await _send(api, "PATCH", f"{COLLECTION}/kokoro", {"spec": {"enabled": True}})
    await _eventually(lambda: watching.names() == ["kokoro", "piper"])

    await _send(api, "DELETE", f"{COLLECTION}/kokoro")
    await _eventually(lambda: watching.names() == ["piper"])


async def test_a_providers_replicas_are_the_ready_endpoints_of_its_service(
    api: kmock.KubernetesEmulator, watching: Published
) -> None:
    service = "chorus-provider-kokoro"
    await _send(api, "POST", COLLECTION, _provider("kokoro"))
    await _eventually(lambda: watching.names() == ["kokoro"])
    assert watching.lists[-1][0].endpoints == [f"http://{service}.voices.svc:8080"], (
        "no endpoints known: the Service"
    )

    ready = {"10.0.0.7": True, "10.0.0.5": True, "10.0.0.9": False}
    await _send(api, "POST", SLICE_COLLECTION, _slice(service, f"{service}-x1", ready))
    await _send(api, "POST", SLICE_COLLECTION, _slice("other", "other-x1", {"10.0.0.8": True}))
    replicas = ["http://10.0.0.5:8080", "http://10.0.0.7:8080"]
    await _eventually(lambda: watching.lists[-1][0].urls == replicas)
    assert watching.lists[-1][0].url == f"http://{service}.voices.svc:8080", "still one provider"

    scaled = _slice(
        service, f"{service}-x1", {"10.0.0.5": True, "10.0.0.7": False, "10.0.0.9": True}
    )
    await _send(
        api, "PATCH", f"{SLICE_COLLECTION}/{service}-x1", {"endpoints": scaled["endpoints"]}
    )
    await _eventually(
        lambda: watching.lists[-1][0].urls == ["http://10.0.0.5:8080", "http://10.0.0.9:8080"]
    )

    await _send(api, "DELETE", f"{SLICE_COLLECTION}/{service}-x1")
    await _eventually(lambda: watching.lists[-1][0].urls == [])


async def test_the_replicas_are_known_from_the_start(api: kmock.KubernetesEmulator) -> None:
    service = "chorus-provider-kokoro"
    await _send(api, "POST", COLLECTION, _provider("kokoro"))
    await _send(api, "POST", SLICE_COLLECTION, _slice(service, "s", {"10.0.0.5": True}))
    (entry,) = await asyncio.to_thread(_source(api).initial)
    assert entry.endpoints == ["http://10.0.0.5:8080"]


async def test_a_broken_watch_is_resumed_and_the_last_list_stays_meanwhile(
    api: kmock.KubernetesEmulator,
) -> None:
    await _send(api, "POST", COLLECTION, _provider("kokoro"))
    # The first watches fail, then so does a list: the API server is restarting.
    failed_watches = api[WATCH][:3] << 500
    failed_lists = api[f"list {PROVIDERS}"][1:2] << 503
    published = Published()
    source = _source(api)
    published(await asyncio.to_thread(source.initial))
    task = asyncio.create_task(source.watch(published))
    try:
        await _eventually(lambda: len(failed_watches) == 3 and len(failed_lists) == 1)
        assert published.names() == ["kokoro"]
        assert len(published.lists) == 1  # nothing was taken away while the API was away

        await _send(api, "POST", COLLECTION, _provider("piper"))
        await _eventually(lambda: published.names() == ["kokoro", "piper"])
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_an_expired_watch_lists_again(api: kmock.KubernetesEmulator) -> None:
    expired = {"type": "ERROR", "object": {"kind": "Status", "code": 410, "reason": "Expired"}}
    gone = api[WATCH][:1] << (expired,)
    lists = api[f"list {PROVIDERS}"]
    published = Published()
    task = asyncio.create_task(_source(api).watch(published))
    try:
        await _eventually(lambda: len(gone) == 1 and len(lists) >= 2)
        await _send(api, "POST", COLLECTION, _provider("kokoro"))
        await _eventually(lambda: published.names() == ["kokoro"])
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_without_an_api_it_starts_empty_and_fills_in_once_the_api_answers() -> None:
    port = free_port()
    source = KubernetesRegistrySource(
        NAMESPACE,
        api_url=f"http://127.0.0.1:{port}",
        token="t",
        backoff_initial_s=0.05,
        backoff_max_s=0.2,
    )
    assert await asyncio.to_thread(source.initial) == []
    status = source.status()
    assert not status.synced
    assert status.error is not None
    assert "cannot list TTSProviders in voices" in status.error

    published = Published()
    task = asyncio.create_task(source.watch(published))
    await asyncio.sleep(0.2)  # a few failed lists while the API is down
    async with kmock.KubernetesEmulator() as api, kmock.Server(api, port=port):
        _serve_kinds(api)
        await _send(api, "POST", COLLECTION, _provider("kokoro"))
        try:
            # The providers and their EndpointSlices are listed by two loops, each
            # retrying on its own backoff: both errors clear, in either order.
            await _eventually(
                lambda: published.names() == ["kokoro"] and source.status().error is None
            )
            assert source.status().synced
        finally:  # before the server stops: it waits for open watches
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task


async def test_the_pods_service_account_is_used_by_default(
    api: kmock.KubernetesEmulator, tmp_path: Path
) -> None:
    (tmp_path / "namespace").write_text(f"{NAMESPACE}\n")
    (tmp_path / "token").write_text("first-token\n")
    source = KubernetesRegistrySource(api_url=str(api.url), service_account_dir=tmp_path)
    assert source.namespace == NAMESPACE

    lists = api[f"list {PROVIDERS}"]
    await asyncio.to_thread(source.initial)
    # The kubelet rotates the token file; the next request reads the new one.
    (tmp_path / "token").write_text("second-token\n")
    await asyncio.to_thread(source.initial)

    tokens = [request.headers.get("Authorization") for request in lists]
    assert tokens == ["Bearer first-token", "Bearer second-token"]


def test_without_a_namespace_or_service_account_start_up_stops(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="no Kubernetes namespace"):
        KubernetesRegistrySource(service_account_dir=tmp_path)
