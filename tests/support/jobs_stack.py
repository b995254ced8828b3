"""A router with long-form jobs on (a real Redis for its queue) and API keys, in front of
the shipped espeak-ng and Piper providers: the `jobs_router` fixture, for a conftest to
import (with `redis_url`, which it needs)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from support.processes import ServiceProcess
from support.secure_stack import Keys, api_key_env, start_secure_router
from support.stack import SHIPPED_REGISTRY, Stack, start_provider

# Small bounds, so that a test document has several pieces and "too big" is cheap to send.
MAX_INPUT_CHARS = 6000
PIECE_CHARS = 160


@dataclass
class JobsRouter:
    router: ServiceProcess
    data_dir: Path
    keys: Keys

    @property
    def jobs_url(self) -> str:
        return f"{self.router.url}/api/v1/audio/jobs"

    def pieces_stored(self, job_id: str) -> list[Path]:
        """The checkpointed pieces of `job_id` in the router's artifact store."""
        return sorted((self.data_dir / "artifacts").glob(f"{job_id}_*.pcm"))


@pytest.fixture(scope="module")
def jobs_router(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[JobsRouter]:
    logs = tmp_path_factory.mktemp("jobs")
    providers = {kind: start_provider(kind, logs) for kind in ("espeak", "piper")}
    shipped = yaml.safe_load(SHIPPED_REGISTRY.read_text())["providers"]
    registry = logs / "providers.yaml"
    Stack.write_registry_file(
        registry,
        [{**e, "url": providers[e["name"]].url} for e in shipped if e["name"] in providers],
    )
    keys = Keys.sqlite(tmp_path_factory.mktemp("keys"))
    data_dir = logs / "router-data"
    env = api_key_env(
        keys.database_url,
        CHORUS_ROUTER_DATA_DIR=str(data_dir),
        CHORUS_ROUTER_JOBS__QUEUE_URL=redis_url,
        CHORUS_ROUTER_JOBS__MAX_INPUT_CHARS=str(MAX_INPUT_CHARS),
        CHORUS_ROUTER_JOBS__PIECE_CHARS=str(PIECE_CHARS),
    )
    router: ServiceProcess | None = None
    try:
        for proc in providers.values():
            proc.wait_ready()
        router = start_secure_router(registry, logs, env)
        yield JobsRouter(router, data_dir, keys)
    finally:
        if router is not None:
            router.stop()
        for proc in providers.values():
            proc.stop()
