"""Two tone providers (a: 220 Hz primary, b: 440 Hz fallback) behind a real router, and
the probes resilience tests use on them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from support.processes import ServiceProcess, free_port
from support.stack import Stack

FAST_ROUTING: dict[str, Any] = {
    "first_byte_timeout_s": 1.5,
    "retry": {"attempts": 2, "backoff_initial_s": 0.01, "backoff_max_s": 0.05, "jitter_s": 0.01},
    "breaker": {"fail_max": 3, "reset_timeout_s": 1.0},
}


def start_tone_provider(
    name: str, logs: Path, port: int | None = None, env: dict[str, str] | None = None
) -> ServiceProcess:
    port = port or free_port()
    settings = {
        "CHORUS_FAULTY_NAME": name,
        "CHORUS_FAULTY_PORT": str(port),
        "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
        **(env or {}),
    }
    return ServiceProcess(name, "support.faulty_provider", port, settings, logs).start()


def tone_entries(a: ServiceProcess, b: ServiceProcess, **routing: Any) -> list[dict[str, Any]]:
    policy = {**FAST_ROUTING, **routing}
    return [
        {
            "name": "a",
            "url": a.url,
            "models": ["tone"],
            "voices": {"alloy": "low"},
            "routing": {**policy, "priority": 20, "fallback": ["b"]},
        },
        {
            "name": "b",
            "url": b.url,
            "models": ["tone"],
            "voices": {"alloy": "high"},
            "routing": {**policy, "priority": 10},
        },
    ]


def control(proc: ServiceProcess, **faults: Any) -> None:
    httpx.post(f"{proc.url}/control", json=faults, timeout=5).raise_for_status()


def requests_seen(proc: ServiceProcess) -> int:
    """The provider's own count of synthesis requests, from its /metrics."""
    total = 0.0
    for line in httpx.get(f"{proc.url}/metrics", timeout=5).text.splitlines():
        if line.startswith("chorus_provider_requests_total{"):
            total += float(line.rsplit(" ", 1)[1])
    return int(total)


def health(stack: Stack) -> dict[str, dict[str, Any]]:
    body = httpx.get(f"{stack.router.url}/api/v1/audio/health", timeout=5).json()
    return {p["name"]: p for p in body["providers"]}


def speak(stack: Stack, text: str = "One two three four.", **extra: Any) -> httpx.Response:
    body = {"model": "tone", "voice": "alloy", "input": text, "response_format": "pcm", **extra}
    return httpx.post(f"{stack.base_url}/audio/speech", json=body, timeout=30)
