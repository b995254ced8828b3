"""Start a fake as a real process and steer it from a test."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx

from support.processes import ServiceProcess, free_port

TESTS_DIR = Path(__file__).resolve().parents[1]


class FakeVendor:
    """A running fake: its URL, and the `/_fake` controls a test uses."""

    def __init__(self, process: ServiceProcess, api_key: str) -> None:
        self.process = process
        self.api_key = api_key
        self.url = process.url

    def fail_next(self, status: int, count: int = 1, retry_after: int | None = None) -> None:
        self._post_fault({"status": status, "count": count, "retry_after": retry_after})

    def stall_next(self, seconds: float, count: int = 1) -> None:
        self._post_fault({"stall_s": seconds, "count": count})

    def slow_next(self, chunk_delay_s: float, count: int = 1) -> None:
        self._post_fault({"chunk_delay_s": chunk_delay_s, "count": count})

    def requests(self) -> list[dict[str, Any]]:
        body: list[dict[str, Any]] = self._state()["requests"]
        return body

    def open_streams(self) -> int:
        count: int = self._state()["open_streams"]
        return count

    def reset(self) -> None:
        httpx.post(f"{self.url}/_fake/reset", timeout=5).raise_for_status()

    def stop(self) -> None:
        self.process.stop()

    def _post_fault(self, fault: dict[str, Any]) -> None:
        httpx.post(f"{self.url}/_fake/faults", json=fault, timeout=5).raise_for_status()

    def _state(self) -> dict[str, Any]:
        response = httpx.get(f"{self.url}/_fake/requests", timeout=5)
        response.raise_for_status()
        state: dict[str, Any] = response.json()
        return state


def start_fake(
    vendor: str, log_dir: Path, api_key: str, env: dict[str, str] | None = None
) -> FakeVendor:
    """`vendor` names a module `fakes.<vendor>_fake`; returns once the fake answers."""
    port = free_port()
    python_path = os.pathsep.join(filter(None, [str(TESTS_DIR), os.environ.get("PYTHONPATH")]))
    process = ServiceProcess(
        f"fake-{vendor}",
        f"fakes.{vendor}_fake",
        port,
        {"PYTHONPATH": python_path, **(env or {})},
        log_dir,
        args=("--port", str(port), "--api-key", api_key),
    ).start()
    process.wait_ready("/_fake/health", timeout_s=30)
    return FakeVendor(process, api_key)
