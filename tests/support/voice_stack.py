"""Two routers on one database, a cloning provider and a plain tone provider behind them.

Callers are told apart by real authentication: the routers run in JWT mode (HS256, a test
secret) and each test user gets a token of its own, so ownership is decided exactly as in a
deployment.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jwt
from openai import OpenAI
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from support.processes import ServiceProcess, free_port, wait_until
from support.stack import Stack, start_router
from support.tone_stack import start_tone_provider

JWT_SECRET = "chorus-voice-tests-secret-0123456789abcdef"
ALL_SCOPES = "speech voices admin"
MAX_VOICES = 3
_TESTS = str(Path(__file__).resolve().parents[1])


def token(user: str, scopes: str = ALL_SCOPES) -> str:
    claims = {"sub": user, "scope": scopes, "iss": "chorus-tests", "aud": "chorus"}
    return jwt.encode({**claims, "exp": int(time.time()) + 3600}, JWT_SECRET, algorithm="HS256")


@dataclass
class VoiceStack:
    routers: list[ServiceProcess]
    cloner: ServiceProcess
    plain: ServiceProcess
    registry: Path
    logs: Path
    env: dict[str, str]
    database_url: str
    data_dir: Path
    tmp_dir: Path
    _clients: list[httpx.Client] = field(default_factory=list)

    def sdk(self, user: str, router: int = 0, scopes: str = ALL_SCOPES) -> OpenAI:
        return OpenAI(
            base_url=f"{self.routers[router].url}/v1",
            api_key=token(user, scopes),
            max_retries=0,
            timeout=30,
        )

    def http(self, user: str, router: int = 0, scopes: str = ALL_SCOPES) -> httpx.Client:
        client = httpx.Client(
            base_url=self.routers[router].url,
            headers={"Authorization": f"Bearer {token(user, scopes)}"},
            timeout=30,
        )
        self._clients.append(client)
        return client

    def received(self) -> list[dict[str, Any]]:
        """What the cloning provider was sent, oldest first."""
        answer: list[dict[str, Any]] = httpx.get(f"{self.cloner.url}/received", timeout=5).json()
        return answer

    def stored(self, user: str) -> dict[str, int]:
        """Straight from the database: the user's rows and charged bytes."""
        engine = create_engine(self.database_url)
        try:
            with engine.connect() as conn:
                count = "SELECT count(*) FROM {} WHERE owner = :u"
                used = conn.execute(
                    text("SELECT bytes FROM voice_usage WHERE owner = :u"), {"u": user}
                ).scalar()
                return {
                    "voices": conn.execute(text(count.format("voices")), {"u": user}).scalar_one(),
                    "consents": conn.execute(
                        text(count.format("voice_consents")), {"u": user}
                    ).scalar_one(),
                    "bytes": int(used or 0),
                }
        finally:
            engine.dispose()

    def restart_router(self, index: int) -> None:
        self.routers[index].stop()
        self.routers[index] = start_router(self.registry, self.logs, self.env)
        self.routers[index].wait_ready("/healthz")
        self.wait_for_providers(index)

    def wait_for_providers(self, index: int) -> None:
        url = f"{self.routers[index].url}/api/v1/audio/providers"
        headers = {"Authorization": f"Bearer {token('admin')}"}

        def ready() -> bool:
            body = httpx.get(url, headers=headers, timeout=5).json()
            return all(p["ready"] for p in body["providers"]) and len(body["providers"]) == 2

        if not wait_until(ready, 30, 0.1):
            raise TimeoutError(f"router {index} never saw both providers ready")

    def stop(self) -> None:
        for client in self._clients:
            client.close()
        for proc in [*self.routers, self.cloner, self.plain]:
            proc.stop()


def start_cloning_provider(
    name: str, logs: Path, env: dict[str, str] | None = None
) -> ServiceProcess:
    """The tests' cloning provider (support.cloning_provider) as a process named `name`."""
    port = free_port()
    settings = {
        "CHORUS_CLONING_NAME": name,
        "CHORUS_CLONING_PORT": str(port),
        "PYTHONPATH": _TESTS,
        **(env or {}),
    }
    return ServiceProcess(name, "support.cloning_provider", port, settings, logs).start()


def start_voice_stack(
    root: Path,
    database_url: str | None,
    cloner_env: dict[str, str] | None = None,
    extra_router_env: dict[str, str] | None = None,
) -> VoiceStack:
    """Start everything; with no URL the routers share a SQLite file under `root`."""
    logs, data_dir, tmp_dir = root / "logs", root / "data", root / "tmp"
    for folder in (logs, data_dir, tmp_dir):
        folder.mkdir()
    cloner = start_cloning_provider("cloner", logs, cloner_env)
    plain = start_tone_provider("plain", logs)
    registry = logs / "providers.yaml"
    Stack.write_registry_file(
        registry,
        [
            {"name": "cloner", "url": cloner.url, "models": ["clone"]},
            {"name": "plain", "url": plain.url, "models": ["tone"], "voices": {"alloy": "low"}},
        ],
    )
    env = {**router_env(data_dir, tmp_dir, database_url), **(extra_router_env or {})}
    routers = [start_router(registry, logs, env) for _ in range(2)]
    inspect_url = database_url or f"sqlite:///{data_dir / 'chorus.db'}"
    stack = VoiceStack(
        routers,
        cloner,
        plain,
        registry,
        logs,
        env,
        str(make_url(inspect_url).set(drivername=_driver(inspect_url))),
        data_dir,
        tmp_dir,
    )
    try:
        for proc in (cloner, plain):
            proc.wait_ready()
        for index, router in enumerate(routers):
            router.wait_ready("/healthz")
            stack.wait_for_providers(index)
    except BaseException:
        stack.stop()
        raise
    return stack


def router_env(data_dir: Path, tmp_dir: Path, database_url: str | None) -> dict[str, str]:
    env = {
        "CHORUS_ROUTER_DATA_DIR": str(data_dir),
        # Anything the router spooled to a temporary file would show up here.
        "TMPDIR": str(tmp_dir),
        "CHORUS_ROUTER_VOICES__MAX_VOICES_PER_USER": str(MAX_VOICES),
        "CHORUS_ROUTER_SECURITY__MODE": "jwt",
        "CHORUS_ROUTER_SECURITY__JWT__ALGORITHM": "HS256",
        "CHORUS_ROUTER_SECURITY__JWT__SECRET": JWT_SECRET,
        "CHORUS_ROUTER_SECURITY__JWT__ISSUER": "chorus-tests",
        "CHORUS_ROUTER_SECURITY__JWT__AUDIENCE": "chorus",
        "CHORUS_ROUTER_SECURITY__RATE_LIMITS__UPLOADS_PER_HOUR": "10000",
        "CHORUS_ROUTER_SECURITY__RATE_LIMITS__SYNTHESIS_PER_MINUTE": "10000",
        "OTEL_SDK_DISABLED": "true",
    }
    if database_url is not None:
        env["CHORUS_ROUTER_DATABASE_URL"] = database_url
    return env


def _driver(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgresql+psycopg"
