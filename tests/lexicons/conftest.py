"""A router in API-key mode with small lexicon bounds, in front of one espeak provider."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from support.processes import ServiceProcess
from support.secure_stack import MODEL, Keys, api_key_env, start_secure_router
from support.stack import Stack, entry, start_provider

MAX_ENTRIES = 5
MAX_PER_USER = 3
MAX_PER_REQUEST = 2


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("lexicons")


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    return Keys.sqlite(tmp_path_factory.mktemp("lexicon-keys"))


@pytest.fixture(scope="module")
def router(logs: Path, keys: Keys) -> Iterator[ServiceProcess]:
    espeak = start_provider("espeak", logs)
    registry = logs / "providers.yaml"
    Stack.write_registry_file(
        registry, [entry("espeak", espeak, [MODEL], voices={"alloy": "en-us"})]
    )
    env = api_key_env(
        keys.database_url,
        CHORUS_ROUTER_LEXICONS__MAX_ENTRIES_PER_LEXICON=str(MAX_ENTRIES),
        CHORUS_ROUTER_LEXICONS__MAX_LEXICONS_PER_USER=str(MAX_PER_USER),
        CHORUS_ROUTER_LEXICONS__MAX_LEXICONS_PER_REQUEST=str(MAX_PER_REQUEST),
    )
    try:
        espeak.wait_ready()
        proc = start_secure_router(registry, logs, env)
        yield proc
        proc.stop()
    finally:
        espeak.stop()


@pytest.fixture(scope="module")
def admin_key(keys: Keys) -> str:
    """One key made with the CLI, as an operator starts; the others come from the HTTP API."""
    return keys.create("lexicon-admin", "speech", "admin")


@pytest.fixture
def user_client(router: ServiceProcess, admin_key: str) -> Iterator[Callable[..., httpx.Client]]:
    """A client with a key of a fresh user of its own (speech scope unless told), per call."""
    clients: list[httpx.Client] = []

    def client(key: str) -> httpx.Client:
        made = httpx.Client(
            base_url=router.url, headers={"Authorization": f"Bearer {key}"}, timeout=30
        )
        clients.append(made)
        return made

    admin = client(admin_key)

    def make(*scopes: str, user: str | None = None, lexicons: tuple[str, ...] = ()) -> httpx.Client:
        body = {
            "user": user or f"user-{uuid.uuid4().hex[:8]}",
            "scopes": list(scopes or ("speech",)),
            "lexicons": list(lexicons),
        }
        created = admin.post("/api/v1/admin/keys", json=body)
        assert created.status_code == 200, created.text
        return client(created.json()["key"])

    yield make
    for made in clients:
        made.close()
