"""Real routers with authentication on, in front of one espeak provider process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from support.processes import ServiceProcess
from support.redis_server import redis_url as redis_url
from support.secure_stack import MODEL, Keys, api_key_env, start_secure_router
from support.stack import Stack, entry, ready_provider


@pytest.fixture(scope="session")
def security_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("security")


@pytest.fixture(scope="session")
def espeak(security_logs: Path) -> Iterator[ServiceProcess]:
    """One for the package (its tests share a router in front of it)."""
    with ready_provider("espeak", security_logs) as provider:
        yield provider


@pytest.fixture(scope="session")
def registry(espeak: ServiceProcess, security_logs: Path) -> Path:
    path = security_logs / "providers.yaml"
    Stack.write_registry_file(
        path, [entry("espeak", espeak, [MODEL, "tts-1"], voices={"alloy": "en-us"})]
    )
    return path


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    """A key store of the module's own."""
    return Keys.sqlite(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="module")
def router(registry: Path, security_logs: Path, keys: Keys) -> Iterator[ServiceProcess]:
    """A router in API-key mode over `keys`; a module that needs another mode defines its own."""
    proc = start_secure_router(registry, security_logs, api_key_env(keys.database_url))
    yield proc
    proc.stop()
