"""A router killed mid-job (SIGKILL, by its PID) and started again: the job finishes from
its checkpoints, no finished piece is made again beyond those in flight at the kill, and
the audio is what an uninterrupted run of the same job makes."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from support.jobs_stack import finished
from support.processes import ServiceProcess, wait_until
from support.secure_stack import Keys, api_key_env, start_secure_router
from support.stack import SHIPPED_REGISTRY, Stack, start_provider
from support.tone_stack import requests_seen

pytestmark = pytest.mark.e2e

PIECES_IN_FLIGHT = 2
BOOK = "\n\n".join(
    f"# Part {part}\n\n"
    + " ".join(f"Sentence {n} of part {part} is spoken here, and then it ends." for n in range(40))
    for part in range(3)
)


class Restartable:
    """A router over one espeak-ng provider whose state (database, artifacts) and queue
    outlive the router process."""

    def __init__(self, logs: Path, redis_url: str) -> None:
        self.espeak = start_provider("espeak", logs)
        shipped = yaml.safe_load(SHIPPED_REGISTRY.read_text())["providers"]
        self.registry = logs / "providers.yaml"
        entry = next(e for e in shipped if e["name"] == "espeak")
        Stack.write_registry_file(self.registry, [{**entry, "url": self.espeak.url}])
        self.keys = Keys.sqlite(logs / "keys")
        self.logs = logs
        self.env = api_key_env(
            self.keys.database_url,
            CHORUS_ROUTER_DATA_DIR=str(logs / "router-data"),
            CHORUS_ROUTER_JOBS__QUEUE_URL=redis_url,
            CHORUS_ROUTER_JOBS__PIECE_CHARS="160",
            CHORUS_ROUTER_JOBS__PIECES_IN_FLIGHT=str(PIECES_IN_FLIGHT),
            # A killed worker's job goes to another worker once this passes without a beat.
            CHORUS_ROUTER_JOBS__HEARTBEAT_S="2",
        )
        self.espeak.wait_ready()
        self.router: ServiceProcess = start_secure_router(self.registry, logs, self.env)
        self.key = self.keys.create("reader", "speech")

    def client(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.router.url, headers={"Authorization": f"Bearer {self.key}"}, timeout=60
        )

    def restart_after_kill(self) -> None:
        self.router.signal(signal.SIGKILL)
        assert self.router.wait_exit(timeout_s=10) is not None
        self.router = start_secure_router(self.registry, self.logs, self.env)

    def stop(self) -> None:
        self.router.stop()
        self.espeak.stop()


@pytest.fixture
def stack(tmp_path: Path, redis_url: str) -> Iterator[Restartable]:
    (tmp_path / "keys").mkdir()
    made = Restartable(tmp_path, redis_url)
    try:
        yield made
    finally:
        made.stop()


def _submit(client: httpx.Client) -> dict[str, Any]:
    body = {"input": BOOK, "model": "espeak", "voice": "alloy", "response_format": "pcm"}
    response = client.post("/api/v1/audio/jobs", json=body)
    assert response.status_code == 202, response.text
    job: dict[str, Any] = response.json()
    return job


def _durations(job: dict[str, Any]) -> list[float]:
    return [o["duration_s"] for o in job["outputs"] if o["kind"] in ("chapter", "book")]


def test_a_job_survives_its_router_being_killed(stack: Restartable) -> None:
    with stack.client() as client:
        whole = finished(client, _submit(client)["id"])
        assert whole["status"] == "succeeded"
        total = whole["progress"]["pieces_total"]
        before = requests_seen(stack.espeak)
        job = _submit(client)

        def progressed() -> bool:
            done = client.get(f"/api/v1/audio/jobs/{job['id']}").json()["progress"]
            return bool(done["pieces_done"] >= total // 3)

        assert wait_until(progressed, timeout_s=120)
    stack.restart_after_kill()
    made_before_kill = requests_seen(stack.espeak) - before
    # Killed mid-job: some pieces were still to be made.
    assert made_before_kill < total

    with stack.client() as client:
        resumed = finished(client, job["id"])
    assert resumed["status"] == "succeeded", resumed
    made = requests_seen(stack.espeak) - before
    # Only pieces in flight at the kill (made, not yet checkpointed) were made twice.
    assert total <= made <= total + PIECES_IN_FLIGHT
    assert resumed["progress"]["pieces_done"] == total
    # Nothing missing, nothing twice: each chapter and the book last what they did uninterrupted.
    assert _durations(resumed) == pytest.approx(_durations(whole), rel=0.01)
    assert resumed["progress"]["audio_seconds"] == pytest.approx(
        whole["progress"]["audio_seconds"], rel=0.01
    )
