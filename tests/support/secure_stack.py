"""Routers with authentication on, and API keys made with the admin CLI, for tests."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from openai import OpenAI

from support.processes import ServiceProcess
from support.stack import start_router

MODEL = "espeak"


def start_secure_router(registry: Path, logs: Path, env: dict[str, str]) -> ServiceProcess:
    """A router with `env` on top of the test defaults, ready to serve speech; its state
    (voices, keys) goes to a data_dir of its own unless `env` names a database."""
    data_dir = tempfile.mkdtemp(prefix="data-", dir=logs)
    router = start_router(registry, logs, {"CHORUS_ROUTER_DATA_DIR": data_dir, **env})
    try:
        router.wait_ready("/readyz")
    except BaseException:
        router.stop()
        raise
    return router


@dataclass
class Keys:
    """API keys made the way an operator makes them: with the admin CLI, in a process, in
    the database the routers that should accept them are given (`api_key_env`)."""

    database_url: str

    @classmethod
    def sqlite(cls, directory: Path) -> Keys:
        return cls(f"sqlite:///{directory / 'chorus.db'}")

    def create(self, user: str, *scopes: str, lexicons: tuple[str, ...] = ()) -> str:
        args = ["create", "--user", user, *(a for s in scopes for a in ("--scope", s))]
        args += [a for lexicon in lexicons for a in ("--lexicon", lexicon)]
        return self._run(*args).stdout.strip()

    def revoke(self, key: str) -> None:
        self._run("revoke", key.removeprefix("sk-chorus-")[:12])

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "CHORUS_ROUTER_DATABASE_URL": self.database_url}
        return subprocess.run(
            [sys.executable, "-m", "chorus_router.cli.keys", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )


def api_key_env(database_url: str, **extra: str) -> dict[str, str]:
    return {
        "CHORUS_ROUTER_SECURITY__MODE": "api_key",
        "CHORUS_ROUTER_DATABASE_URL": database_url,
        **extra,
    }


def openai_client(router: ServiceProcess, key: str) -> OpenAI:
    return OpenAI(base_url=f"{router.url}/v1", api_key=key, max_retries=0, timeout=30)
