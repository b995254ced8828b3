"""`make test-images`: every built CPU image run as the chart runs it, then the router and the
local engines together behind OpenAI SDK requests (every format, streamed and whole).

Prints one line per image (healthz, readyz, how it ran) and per request, then
`N/N images healthy` and `N/N requests ok`; exits non-zero when anything failed.
Run it after `make images` (it needs .venv for the SDK: `scripts/bootstrap.sh --test`).
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import kmock
import yaml
from image_runtime import DATA_DIR, Container, Spec, engine_command, runtime_for, wait_for
from openai import OpenAI

REPO = Path(__file__).resolve().parents[1]
TAG = re.search(
    r'^appVersion: *"?([^"\n]+)"?', (REPO / "charts/chorus/Chart.yaml").read_text(), re.M
)
VERSION = TAG.group(1) if TAG else "0.1.0"
ENGINES = ("espeak", "piper", "kokoro")  # behind the router in the requests phase
# Cloud providers talk to their vendor's fake (tests/fakes), which checks key and request.
VENDOR_KEY = "images-test-key"
CLOUD = {"openai": "/v1", "elevenlabs": ""}  # the base URL's path on the fake
KUBE_RESOURCES = {
    "chorus.dev/v1alpha1/ttsproviders": "TTSProvider",
    "apps/v1/deployments": "Deployment",
    "v1/services": "Service",
    "autoscaling/v2/horizontalpodautoscalers": "HorizontalPodAutoscaler",
    "policy/v1/poddisruptionbudgets": "PodDisruptionBudget",
}
FORMATS = ("mp3", "opus", "aac", "flac", "wav", "pcm")
MAGIC = {
    "mp3": (b"ID3", b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"),
    "opus": (b"OggS",),
    "aac": (b"\xff\xf1", b"\xff\xf9"),
    "flac": (b"fLaC",),
    "wav": (b"RIFF",),
}


def main() -> int:
    engine = engine_command()
    images = _built_images(engine)
    missing = sorted(_cpu_services() - set(images))
    if "router" not in images:
        print(f"test-images: no chorus-router:{VERSION} image; run `make images` first")
        return 1
    runtime = runtime_for(engine, images["router"])
    print(f"test-images: {len(images)} images with {' '.join(engine[:1])}; {runtime.description}")
    logs = Path(tempfile.mkdtemp(prefix="chorus-images-"))
    started = time.monotonic()
    containers: list[Container] = []
    healthy = 0
    try:
        with _kube_api() as api_url, _vendor_fakes(logs) as vendors:
            specs = [_spec(name, images[name], logs, api_url, vendors) for name in sorted(images)]
            specs = [spec for spec in specs if spec.name != "router"]
            ports = {spec.name: spec.port for spec in specs}
            specs.append(_router_spec(images["router"], ports, logs))
            for spec in specs:
                containers.append(runtime.start(spec, logs))
            for spec, container in zip(specs, containers, strict=True):
                healthy += _report(container, spec.port)
            # The router is ready with one provider; routing is shown once it sees them all.
            health = f"http://127.0.0.1:{specs[-1].port}/api/v1/audio/health"
            wait_for(lambda: _all_ready(health), 60)
            requests_ok, total = _speak(specs[-1].port)
    finally:
        for container in containers:
            container.stop()
        runtime.close()
    for name in missing:
        print(f"  {name:<11} NOT BUILT (make images)")
    print(f"{healthy}/{len(containers) + len(missing)} images healthy")
    print(f"{requests_ok}/{total} requests ok")
    print(f"test-images: {time.monotonic() - started:.0f}s (logs in {logs})")
    return 0 if healthy == len(containers) and not missing and requests_ok == total else 1


def _cpu_services() -> set[str]:
    """What `make images` builds without GPU_IMAGES: the router, the operator and every
    provider of the uv workspace (GPU providers keep their own lock)."""
    locked = {p["name"] for p in tomllib.loads((REPO / "uv.lock").read_text())["package"]}
    providers = {
        path.parent.name
        for path in (REPO / "services/providers").glob("*/pyproject.toml")
        if f"chorus-{path.parent.name}" in locked
    }
    return {"router", "operator", *providers}


def _built_images(engine: list[str]) -> dict[str, str]:
    """service name -> image reference, for every chorus-<service>:<appVersion> here."""
    listing = subprocess.run(
        [*engine, "images", "--format", "{{.Repository}}:{{.Tag}}"],
        capture_output=True, text=True, check=False,
    ).stdout.split()  # fmt: skip
    found = {}
    for ref in listing:
        match = re.fullmatch(rf"(?:localhost/)?chorus-([a-z0-9-]+):{re.escape(VERSION)}", ref)
        if match and not match.group(1).endswith("-gpu") and "standin" not in ref:
            found[match.group(1)] = ref
    return found


def _spec(name: str, image: str, logs: Path, api_url: str, vendors: dict[str, str]) -> Spec:
    port = _free_port()
    if name == "operator":
        kubeconfig = logs / "kubeconfig"
        kubeconfig.write_text(yaml.safe_dump(_kubeconfig(api_url)))
        # The image's entrypoint, with the liveness endpoint on this run's port.
        command = [
            "kopf", "run", "--standalone", f"--liveness=http://127.0.0.1:{port}/healthz",
            "--namespace=chorus", "-m", "chorus_operator.handlers",
        ]  # fmt: skip
        env = {"KUBECONFIG": "/tmp/kubeconfig"}
        return Spec(name, image, port, env, command, files={"kubeconfig": kubeconfig})
    prefix = f"CHORUS_{name.upper()}_"
    env = {f"{prefix}HOST": "127.0.0.1", f"{prefix}PORT": str(port)}
    if name in CLOUD:
        env |= {f"{prefix}API_KEY": VENDOR_KEY, f"{prefix}BASE_URL": vendors[name] + CLOUD[name]}
    return Spec(name, image, port, env)


def _router_spec(image: str, ports: dict[str, int], logs: Path) -> Spec:
    """The router with config/providers.yaml, pointed at the engines' containers."""
    registry = yaml.safe_load((REPO / "config/providers.yaml").read_text())
    registry["providers"] = [
        {**entry, "url": f"http://127.0.0.1:{ports[entry['name']]}"}
        for entry in registry["providers"]
        if entry["name"] in ENGINES and entry["name"] in ports
    ]
    path = logs / "providers.yaml"
    path.write_text(yaml.safe_dump(registry))
    port = _free_port()
    env = {
        "CHORUS_ROUTER_HOST": "127.0.0.1",
        "CHORUS_ROUTER_PORT": str(port),
        "CHORUS_ROUTER_REGISTRY_FILE": "/tmp/providers.yaml",
        "CHORUS_ROUTER_DATA_DIR": DATA_DIR,
        # Every request is synthesized: a whole file after the same streamed one would
        # otherwise come from the response cache and prove nothing about the engine.
        "CHORUS_ROUTER_ARTIFACTS__CACHE__ENABLED": "false",
    }
    return Spec("router", image, port, env, files={"providers.yaml": path}, data_dir=True)


def _report(container: Container, port: int) -> int:
    """Wait for /healthz, then /readyz (the operator serves liveness only); print the line."""
    base = f"http://127.0.0.1:{port}"
    live = wait_for(lambda: _status(f"{base}/healthz") == 200 or not container.alive(), 240)
    live = live and container.alive() and _status(f"{base}/healthz") == 200
    ready: int | str = "n/a (kopf: liveness only)"
    ok = live
    if container.name != "operator" and live:
        wait_for(lambda: _status(f"{base}/readyz") == 200 or not container.alive(), 180)
        ready = _status(f"{base}/readyz")
        ok = ready == 200
    who = container.identity()
    ran = (
        f"uid {who['uid']}, CapEff {who['cap_eff']}, NoNewPrivs {who['no_new_privs']}, "
        f"root {who['root_mount'].split(',')[0]}"
        if who
        else "as run by the engine's flags"
    )
    print(f"  {container.name:<11} healthz {200 if live else 'FAIL'}  readyz {ready}  ({ran})")
    if not ok:
        print("    " + container.log().replace("\n", "\n    ")[-1500:])
    return int(ok)


def _speak(port: int) -> tuple[int, int]:
    """Every format, streamed and whole, through the router; one request per engine too."""
    client = OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="local", timeout=180)
    cases = [("tts-1", "alloy", fmt, stream) for fmt in FORMATS for stream in (True, False)]
    cases += [("espeak", "nova", "mp3", True), ("kokoro", "alloy", "wav", False)]
    ok = 0
    for model, voice, fmt, stream in cases:
        started = time.monotonic()
        try:
            extra = {"stream": stream}
            with client.audio.speech.with_streaming_response.create(
                model=model, voice=voice, input="Chorus runs in its images. Two sentences.",
                response_format=fmt, extra_body=extra,  # type: ignore[arg-type]
            ) as response:  # fmt: skip
                body = b"".join(response.iter_bytes())
                provider = response.headers.get("x-chorus-provider", "?")
            good = len(body) > 1000 and (fmt == "pcm" or body.startswith(MAGIC[fmt]))
            verdict = "ok" if good else "BAD AUDIO"
        except Exception as exc:  # a failed request is a result to print, not a crash
            body, provider, good, verdict = b"", "?", False, f"FAILED: {exc}"[:120]
        ok += good
        mode = "streamed" if stream else "whole"
        print(
            f"  {model:<7} {fmt:<5} {mode:<8} -> {provider:<7} {len(body):>7} bytes "
            f"{time.monotonic() - started:5.1f}s {verdict}"
        )
    return ok, len(cases)


@contextmanager
def _vendor_fakes(logs: Path) -> Iterator[dict[str, str]]:
    """OpenAI's and ElevenLabs' fakes as processes on the host (the vendors cannot run here)."""
    sys.path.insert(0, str(REPO / "tests"))
    from fakes.process import start_fake

    fakes = {vendor: start_fake(vendor, logs, VENDOR_KEY) for vendor in CLOUD}
    try:
        yield {vendor: fake.url for vendor, fake in fakes.items()}
    finally:
        for fake in fakes.values():
            fake.stop()


@contextmanager
def _kube_api() -> Iterator[str]:
    """kmock's Kubernetes API for the operator image, on a loop of its own."""
    ready = threading.Event()
    state: dict[str, Any] = {}

    async def serve() -> None:
        async with kmock.KubernetesEmulator() as api, kmock.Server(api):
            for resource, kind in KUBE_RESOURCES.items():
                api.resources[resource] = kmock.ResourceInfo(kind=kind, namespaced=True)
            state["url"] = str(api.url).rstrip("/")
            state["stop"] = asyncio.Event()
            ready.set()
            await state["stop"].wait()

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    ready.wait(30)
    try:
        yield state["url"]
    finally:
        loop.call_soon_threadsafe(state["stop"].set)
        thread.join(10)


def _kubeconfig(server: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "kmock", "cluster": {"server": server}}],
        "users": [{"name": "operator", "user": {"token": "images-test"}}],
        "contexts": [{"name": "kmock", "context": {"cluster": "kmock", "user": "operator"}}],
        "current-context": "kmock",
    }


def _all_ready(url: str) -> bool:
    try:
        providers = httpx.get(url, timeout=3).json()["providers"]
    except (httpx.HTTPError, ValueError, KeyError):
        return False
    return bool(providers) and all(p["ready"] for p in providers)


def _status(url: str) -> int:
    try:
        return httpx.get(url, timeout=3).status_code
    except httpx.HTTPError:
        return 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(__file__))
    sys.exit(main())
