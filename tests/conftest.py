"""Fixtures that start real Chorus processes on free 127.0.0.1 ports."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from openai import OpenAI

from support.postgres_server import PostgresServer, postgres_server
from support.processes import ServiceProcess
from support.stack import Stack, ready_provider, shipped_stack, start_router
from support.tone_stack import start_tone_provider, tone_entries


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One throwaway PostgreSQL server; each user makes a database of its own in it."""
    with postgres_server() as server:
        yield server


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The `make run` layout (local providers behind the router) with the shipped registry."""
    with shipped_stack(("espeak", "piper", "kokoro"), tmp_path_factory.mktemp("logs")) as stack:
        yield stack


@pytest.fixture
def espeak(tmp_path: Path) -> Iterator[ServiceProcess]:
    """One espeak-ng provider, ready, for this test alone."""
    with ready_provider("espeak", tmp_path) as provider:
        yield provider


@pytest.fixture
def client(local_stack: Stack) -> OpenAI:
    return OpenAI(base_url=local_stack.base_url, api_key="local", max_retries=0, timeout=60)


@pytest.fixture
def tone_stack(tmp_path: Path) -> Iterator[Callable[..., Stack]]:
    """Two tone providers (a primary, b fallback) behind a router, fresh for each test
    (breakers and counters start at zero); routing overrides as keyword arguments."""
    stacks: list[Stack] = []

    def build(
        router_env: dict[str, str] | None = None,
        provider_env: dict[str, dict[str, str]] | None = None,
        **routing: Any,
    ) -> Stack:
        envs = provider_env or {}
        a = start_tone_provider("a", tmp_path, env=envs.get("a"))
        b = start_tone_provider("b", tmp_path, env=envs.get("b"))
        registry = tmp_path / "providers.yaml"
        Stack.write_registry_file(registry, tone_entries(a, b, **routing))
        stack = Stack(start_router(registry, tmp_path, router_env), {"a": a, "b": b}, registry)
        stacks.append(stack)
        a.wait_ready()
        b.wait_ready()
        stack.router.wait_ready("/healthz")
        stack.wait_for_states({"a": True, "b": True})
        return stack

    yield build
    for stack in stacks:
        stack.stop()
