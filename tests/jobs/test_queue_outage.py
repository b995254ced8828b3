"""The job queue's Redis going away and coming back: the router waits for it without
spinning (saq's worker retried a failed dequeue at once, a whole core for as long as Redis
was down), and works jobs again once it is back."""

from __future__ import annotations

import os
import time
from pathlib import Path

import httpx
import pytest
import yaml

from support.jobs_stack import finished
from support.processes import ServiceProcess, free_port
from support.redis_server import local_redis_server
from support.stack import SHIPPED_REGISTRY, Stack, start_router

pytestmark = pytest.mark.e2e

# A worker retrying at once used a whole core (about 1 CPU second per second) here; paced,
# the router is all but idle. The bound is far from both.
MOST_CPU_PER_S = 0.3


def _cpu_s(pid: int) -> float:
    """The process's user and system CPU seconds so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_a_router_waits_for_its_queue_without_spinning_and_works_once_it_is_back(
    tmp_path: Path, espeak: ServiceProcess
) -> None:
    shipped = yaml.safe_load(SHIPPED_REGISTRY.read_text())["providers"]
    registry = tmp_path / "providers.yaml"
    entry = next(e for e in shipped if e["name"] == "espeak")
    Stack.write_registry_file(registry, [{**entry, "url": espeak.url}])
    port = free_port()
    with local_redis_server(tmp_path, port) as url:
        router = start_router(registry, tmp_path, {"CHORUS_ROUTER_JOBS__QUEUE_URL": url})
        router.wait_ready("/healthz")
    try:
        # Redis is down now: the worker's dequeues fail, one after another.
        before, started = _cpu_s(router.pid), time.monotonic()
        time.sleep(3)
        used = (_cpu_s(router.pid) - before) / (time.monotonic() - started)
        assert used < MOST_CPU_PER_S, f"the router used {used:.2f} CPU seconds per second"
        assert "the job queue is unreachable" in router.log_path.read_text()
        with local_redis_server(tmp_path, port), httpx.Client(base_url=router.url) as client:
            body = {"input": "Back again.", "model": "espeak", "voice": "alloy"}
            response = client.post("/api/v1/audio/jobs", json=body, timeout=30)
            assert response.status_code == 202, response.text
            assert finished(client, response.json()["id"])["status"] == "succeeded"
    finally:
        router.stop()
