"""A router with provider processes behind it, described by a registry file it writes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from support.processes import ServiceProcess, free_port, wait_until

SHIPPED_REGISTRY = Path(__file__).resolve().parents[2] / "config" / "providers.yaml"


@dataclass
class Stack:
    router: ServiceProcess
    providers: dict[str, ServiceProcess]
    registry_file: Path

    @property
    def base_url(self) -> str:
        return f"{self.router.url}/v1"

    def write_registry(self, entries: list[dict[str, Any]]) -> None:
        self.write_registry_file(self.registry_file, entries)

    @staticmethod
    def write_registry_file(path: Path, entries: list[dict[str, Any]]) -> None:
        """Atomically, so the router never reads half a file."""
        tmp = path.with_suffix(".tmp")
        tmp.write_text(yaml.safe_dump({"providers": entries}))
        tmp.replace(path)

    def provider_states(self) -> dict[str, bool]:
        body = httpx.get(f"{self.router.url}/api/v1/audio/providers", timeout=5).json()
        return {p["name"]: p["ready"] for p in body["providers"]}

    def wait_for_states(self, expected: dict[str, bool], timeout_s: float = 30) -> None:
        if not wait_until(lambda: self.provider_states() == expected, timeout_s, 0.1):
            raise TimeoutError(f"providers are {self.provider_states()}, not {expected}")

    def stop(self) -> None:
        self.router.stop()
        for proc in self.providers.values():
            proc.stop()


def provider_env(
    kind: str, name: str, port: int, extra: dict[str, str] | None = None
) -> dict[str, str]:
    prefix = f"CHORUS_{kind.upper()}_"
    return {f"{prefix}NAME": name, f"{prefix}PORT": str(port), **(extra or {})}


def start_provider(
    kind: str,
    log_dir: Path,
    name: str | None = None,
    env: dict[str, str] | None = None,
    port: int | None = None,
) -> ServiceProcess:
    """Provider `kind` as `chorus-<kind>` runs it, registered as `name` (default: `kind`),
    on `port` when a registry already names it (default: a free one)."""
    port = port or free_port()
    name = name or kind
    env = provider_env(kind, name, port, env)
    return ServiceProcess(name, "chorus_provider", port, env, log_dir, (kind,)).start()


def start_router(
    registry_file: Path, log_dir: Path, env: dict[str, str] | None = None
) -> ServiceProcess:
    port = free_port()
    return ServiceProcess(
        "router",
        "chorus_router",
        port,
        {
            "CHORUS_ROUTER_PORT": str(port),
            "CHORUS_ROUTER_REGISTRY_FILE": str(registry_file),
            "CHORUS_ROUTER_PROVIDER_POLL_INTERVAL_S": "0.25",
            "CHORUS_ROUTER_REGISTRY_RELOAD_INTERVAL_S": "0.2",
            # Its own database and key store, never the repository's ./data.
            "CHORUS_ROUTER_DATA_DIR": str(log_dir / f"router-data-{port}"),
            **(env or {}),
        },
        log_dir,
    ).start()


def metric_value(url: str, name: str, **labels: str) -> float:
    """One sample of the Prometheus metrics at `url`, by its exact labels; 0 when absent."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    text = httpx.get(f"{url}/metrics", timeout=5).text
    found = re.search(rf"^{name}\{{{re.escape(wanted)}\}} (\S+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def entry(name: str, proc: ServiceProcess, models: list[str], **extra: Any) -> dict[str, Any]:
    return {"name": name, "url": proc.url, "models": models, **extra}


@contextmanager
def ready_provider(kind: str, log_dir: Path) -> Iterator[ServiceProcess]:
    """One provider of `kind`, ready to serve; stopped on exit."""
    provider = start_provider(kind, log_dir)
    try:
        provider.wait_ready()
        yield provider
    finally:
        provider.stop()


@contextmanager
def shipped_stack(
    kinds: tuple[str, ...], log_dir: Path, router_env: dict[str, str] | None = None
) -> Iterator[Stack]:
    """The `make run` layout: providers `kinds` behind a router, registered as the shipped
    registry (config/providers.yaml) registers them, all ready; stopped on exit."""
    providers = {kind: start_provider(kind, log_dir) for kind in kinds}
    shipped = yaml.safe_load(SHIPPED_REGISTRY.read_text())["providers"]
    entries = [{**e, "url": providers[e["name"]].url} for e in shipped if e["name"] in providers]
    with routed_stack(providers, entries, log_dir, router_env) as stack:
        yield stack


@contextmanager
def routed_stack(
    providers: dict[str, ServiceProcess],
    entries: list[dict[str, Any]],
    log_dir: Path,
    router_env: dict[str, str] | None = None,
) -> Iterator[Stack]:
    """Started `providers` behind a router whose registry holds `entries`, all ready; the
    router and the providers stopped on exit."""
    registry = log_dir / "providers.yaml"
    Stack.write_registry_file(registry, entries)
    stack = Stack(start_router(registry, log_dir, router_env), providers, registry)
    try:
        for proc in providers.values():
            proc.wait_ready()
        stack.router.wait_ready("/healthz")
        stack.wait_for_states({name: True for name in providers})
        yield stack
    finally:
        stack.stop()


@contextmanager
def router_over(stack: Stack, env: dict[str, str]) -> Iterator[Stack]:
    """Another router, configured by `env`, in front of `stack`'s registry and providers
    (one router starts in a fraction of the time the providers take), ready to serve; only
    that router is stopped on exit."""
    router = start_router(stack.registry_file, stack.router.log_path.parent, env)
    try:
        router.wait_ready("/readyz")
        yield Stack(router, stack.providers, stack.registry_file)
    finally:
        router.stop()
