"""A fresh tone stack per test: breakers and counters start from zero."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from support.stack import Stack, start_router
from support.tone_stack import start_tone_provider, tone_entries


@pytest.fixture
def tone_stack(tmp_path: Path) -> Iterator[Callable[..., Stack]]:
    """Builds the stack with routing overrides; stops it after the test."""
    stacks: list[Stack] = []

    def build(router_env: dict[str, str] | None = None, **routing: Any) -> Stack:
        a, b = start_tone_provider("a", tmp_path), start_tone_provider("b", tmp_path)
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
