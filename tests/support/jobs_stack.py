"""A router with long-form jobs on (a real Redis for its queue) and API keys, in front of
the shipped espeak-ng and Piper providers and two tone providers a test can break (tone-a,
falling back to tone-b): the `jobs_router` fixture, for a conftest to import (with
`redis_url`, which it needs), and the helpers its tests share."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from support.processes import ServiceProcess
from support.redis_server import redis_url as redis_url
from support.secure_stack import Keys, api_key_env, start_secure_router
from support.stack import SHIPPED_REGISTRY, Stack, start_provider
from support.tone_stack import FAST_ROUTING, start_tone_provider

# Small bounds, so that a test document has several pieces and "too big" is cheap to send.
MAX_INPUT_CHARS = 6000
PIECE_CHARS = 160
MAX_CHARS_PER_DAY = 12_000
# How long a chapter's provider may stay down before the chapter moves to the next one.
PROVIDER_DOWN_S = 1.0
# tone-a speaks alloy at 220 Hz and echo at 440 Hz; tone-b the other way round, so a
# chapter's audio shows which provider spoke it.
TONE_VOICES = {
    "tone-a": {"alloy": "low", "echo": "high"},
    "tone-b": {"alloy": "high", "echo": "low"},
}


@dataclass
class JobsRouter:
    router: ServiceProcess
    data_dir: Path
    keys: Keys
    tones: dict[str, ServiceProcess]

    @property
    def jobs_url(self) -> str:
        return f"{self.router.url}/api/v1/audio/jobs"

    def client(self, user: str, scope: str = "speech") -> httpx.Client:
        """A client with a new API key of `user`."""
        key = self.keys.create(user, scope)
        return httpx.Client(
            base_url=self.router.url, headers={"Authorization": f"Bearer {key}"}, timeout=60
        )

    def pieces_stored(self, job_id: str) -> list[Path]:
        """The checkpointed pieces of `job_id` in the router's artifact store."""
        return sorted((self.data_dir / "artifacts").glob(f"{job_id}_*.pcm"))


def job_events(client: httpx.Client, job_id: str) -> Iterator[dict[str, Any]]:
    """The job's SSE events, until the stream ends with the job's end."""
    with client.stream("GET", f"/api/v1/audio/jobs/{job_id}/events", timeout=300) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            if line.startswith("data: "):
                yield json.loads(line.removeprefix("data: "))


def finished(client: httpx.Client, job_id: str) -> dict[str, Any]:
    """The job once it has ended (its last event)."""
    job: dict[str, Any] = list(job_events(client, job_id))[-1]["job"]
    return job


@pytest.fixture(scope="package")
def jobs_router(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[JobsRouter]:
    """One for the package that imports it (starting five processes is most of a module's
    time): each test speaks as users of its own and puts back any fault it sets."""
    logs = tmp_path_factory.mktemp("jobs")
    providers = {kind: start_provider(kind, logs) for kind in ("espeak", "piper")}
    tones = {name: start_tone_provider(name, logs) for name in ("tone-a", "tone-b")}
    shipped = yaml.safe_load(SHIPPED_REGISTRY.read_text())["providers"]
    registry = logs / "providers.yaml"
    Stack.write_registry_file(
        registry,
        [{**e, "url": providers[e["name"]].url} for e in shipped if e["name"] in providers]
        + [
            {
                "name": name,
                "url": proc.url,
                "models": ["tone"],
                "voices": TONE_VOICES[name],
                "routing": {**FAST_ROUTING, "priority": priority, "fallback": fallback},
            }
            for (name, proc), priority, fallback in zip(
                tones.items(), (20, 10), (["tone-b"], []), strict=True
            )
        ],
    )
    keys = Keys.sqlite(tmp_path_factory.mktemp("keys"))
    data_dir = logs / "router-data"
    env = api_key_env(
        keys.database_url,
        CHORUS_ROUTER_DATA_DIR=str(data_dir),
        # A Redis database of its own: this router's workers outlive a module, and must never
        # take the jobs of another router on the same Redis (test_resume's).
        CHORUS_ROUTER_JOBS__QUEUE_URL=f"{redis_url}/1",
        CHORUS_ROUTER_JOBS__MAX_INPUT_CHARS=str(MAX_INPUT_CHARS),
        CHORUS_ROUTER_JOBS__PIECE_CHARS=str(PIECE_CHARS),
        CHORUS_ROUTER_JOBS__PROVIDER_DOWN_S=str(PROVIDER_DOWN_S),
        CHORUS_ROUTER_JOBS__MAX_CHARS_PER_DAY=str(MAX_CHARS_PER_DAY),
    )
    router: ServiceProcess | None = None
    try:
        for proc in [*providers.values(), *tones.values()]:
            proc.wait_ready()
        router = start_secure_router(registry, logs, env)
        yield JobsRouter(router, data_dir, keys, tones)
    finally:
        if router is not None:
            router.stop()
        for proc in [*providers.values(), *tones.values()]:
            proc.stop()
