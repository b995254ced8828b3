"""The fault run: concurrent clients keep asking while the primary dies and comes back."""

from __future__ import annotations

import signal
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from support.processes import ServiceProcess
from support.stack import Stack
from support.tone_stack import start_tone_provider
from support.tones import dominant_frequencies


@dataclass
class FaultRunReport:
    """Half the clients stream (a primary killed after its first byte cuts their response,
    by design: voices are never spliced); the other half ask for whole files, which the
    router can always redo elsewhere."""

    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    cut_mid_stream: int = 0
    served_by: Counter[str] = field(default_factory=Counter)
    mixed_voices: int = 0
    router_counters: dict[str, float] = field(default_factory=dict)

    @property
    def failures(self) -> int:
        """Requests that got an error status (a cut stream is counted on its own)."""
        return self.requests - self.statuses[200] - self.cut_mid_stream


def fault_run(
    stack: Stack, logs: Path, clients: int = 8, per_client: int = 25, restarts: int = 2
) -> FaultRunReport:
    """`clients` x `per_client` requests while provider `a` is SIGKILLed and restarted."""
    report = FaultRunReport()
    lock = threading.Lock()
    body = {
        "model": "tone",
        "voice": "alloy",
        "input": "One two three. Four five.",
        "response_format": "pcm",
    }

    def client_loop(streaming: bool) -> None:
        with httpx.Client(timeout=30) as http:
            for _ in range(per_client):
                try:
                    response = http.post(
                        f"{stack.base_url}/audio/speech", json={**body, "stream": streaming}
                    )
                except httpx.RemoteProtocolError:
                    with lock:
                        report.requests += 1
                        report.cut_mid_stream += 1
                    continue
                voices = dominant_frequencies(response.content) if response.is_success else set()
                with lock:
                    report.requests += 1
                    report.statuses[response.status_code] += 1
                    report.served_by[response.headers.get("x-chorus-provider", "-")] += 1
                    report.mixed_voices += len(voices) > 1
                time.sleep(0.15)

    with ThreadPoolExecutor(clients) as pool:
        futures = [pool.submit(client_loop, i % 2 == 0) for i in range(clients)]
        for _ in range(restarts):
            time.sleep(0.8)
            stack.providers["a"].signal(signal.SIGKILL)
            time.sleep(0.8)
            stack.providers["a"] = _restart(stack.providers["a"], logs)
        for future in futures:
            future.result()
    report.router_counters = _router_counters(stack)
    return report


def _restart(old: ServiceProcess, logs: Path) -> ServiceProcess:
    old.stop()
    fresh = start_tone_provider(old.name, logs, port=old.port)
    fresh.wait_ready()
    return fresh


def _router_counters(stack: Stack) -> dict[str, float]:
    totals: dict[str, float] = {}
    for line in httpx.get(f"{stack.router.url}/metrics", timeout=5).text.splitlines():
        for name in (
            "tts_retries_total",
            "tts_fallback_attempts_total",
            "tts_provider_errors_total",
        ):
            if line.startswith(name + "{"):
                totals[name] = totals.get(name, 0.0) + float(line.rsplit(" ", 1)[1])
    return totals
