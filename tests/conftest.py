"""Fixtures that start real Chorus processes on free 127.0.0.1 ports."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from openai import OpenAI

from support.stack import Stack, start_provider, start_router

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The `make run` layout (local providers behind the router) with the shipped registry."""
    logs = tmp_path_factory.mktemp("logs")
    providers = {kind: start_provider(kind, logs) for kind in ("espeak", "piper", "kokoro")}
    shipped = yaml.safe_load((REPO / "config" / "providers.yaml").read_text())["providers"]
    registry = logs / "providers.yaml"
    Stack.write_registry_file(
        registry, [{**entry, "url": providers[entry["name"]].url} for entry in shipped]
    )
    stack = Stack(start_router(registry, logs), providers, registry)
    try:
        for proc in providers.values():
            proc.wait_ready()
        stack.router.wait_ready("/healthz")
        stack.wait_for_states({name: True for name in providers})
        yield stack
    finally:
        stack.stop()


@pytest.fixture
def client(local_stack: Stack) -> OpenAI:
    return OpenAI(base_url=local_stack.base_url, api_key="local", max_retries=0, timeout=60)
