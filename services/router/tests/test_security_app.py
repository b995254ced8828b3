"""The security layer on a small app: 401/403/429 in OpenAI's shape, headers, CORS."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated

import httpx
import pytest
from fastapi import Depends, FastAPI
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from chorus_contracts.responses import install_error_handlers
from chorus_router.identity import Principal, Scope, current_principal
from chorus_router.security import (
    AuthMode,
    RouteClass,
    SecuritySettings,
    install_security,
    rate_limited,
    require,
)
from chorus_router.security.keys import KeyStore
from chorus_router.security.settings import CorsSettings, RateLimitSettings
from chorus_router.storage.database import database_url, open_engine
from chorus_router.storage.migrations import migrate


def _app(settings: SecuritySettings, database: Engine) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app, "router")

    @app.post(
        "/speak",
        dependencies=[Depends(require(Scope.SPEECH)), Depends(rate_limited(RouteClass.SYNTHESIS))],
    )
    async def speak(principal: Annotated[Principal, Depends(current_principal)]) -> dict[str, str]:
        return {"user": principal.user_id}

    @app.get("/admin", dependencies=[Depends(require(Scope.ADMIN))])
    async def admin() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    install_security(app, settings, database)
    return app


@pytest.fixture
def database(tmp_path: Path) -> Engine:
    engine = open_engine(database_url(None, tmp_path))
    migrate(engine)
    return engine


@pytest.fixture
def store(database: Engine) -> KeyStore:
    return KeyStore(database)


@pytest.fixture
async def client(database: Engine) -> AsyncIterator[httpx.AsyncClient]:
    settings = SecuritySettings(
        mode=AuthMode.API_KEY,
        rate_limits=RateLimitSettings(synthesis_per_minute=2, characters_per_minute=50),
        cors=CorsSettings(allow_origins=["https://app.example"]),
    )
    transport = httpx.ASGITransport(app=_app(settings, database))
    async with httpx.AsyncClient(transport=transport, base_url="http://router") as client:
        yield client


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def test_missing_and_wrong_keys_get_openai_401(client: httpx.AsyncClient) -> None:
    for headers in ({}, _auth("sk-chorus-nope"), {"Authorization": "Basic abc"}):
        response = await client.post("/speak", headers=headers, json={"input": "hi"})
        assert response.status_code == 401
        error = response.json()["error"]
        assert error["type"] == "invalid_request_error"
        assert error["code"] == "invalid_api_key"
        assert set(error) >= {"message", "type", "param", "code"}
        assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_scopes_decide_between_200_and_403(
    client: httpx.AsyncClient, store: KeyStore
) -> None:
    key, _ = store.create("alice", frozenset({Scope.SPEECH}))

    spoken = await client.post("/speak", headers=_auth(key), json={"input": "hi"})
    refused = await client.get("/admin", headers=_auth(key))

    assert spoken.json() == {"user": "alice"}
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "insufficient_permissions"
    assert "admin" in refused.json()["error"]["message"]


async def test_requests_and_characters_are_limited(
    client: httpx.AsyncClient, store: KeyStore
) -> None:
    key, _ = store.create("alice", frozenset({Scope.SPEECH}))
    chatty, _ = store.create("bob", frozenset({Scope.SPEECH}))

    statuses = [
        (await client.post("/speak", headers=_auth(key), json={"input": "hi"})).status_code
        for _ in range(3)
    ]
    too_long = await client.post("/speak", headers=_auth(chatty), json={"input": "x" * 51})

    assert statuses == [200, 200, 429]
    assert too_long.status_code == 429
    assert too_long.json()["error"]["code"] == "rate_limit_exceeded"
    assert int(too_long.headers["Retry-After"]) >= 1


async def test_open_paths_need_no_key_and_every_response_has_security_headers(
    client: httpx.AsyncClient,
) -> None:
    for response in (await client.get("/healthz"), await client.get("/admin")):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
    assert (await client.get("/healthz")).status_code == 200
    assert (await client.get("/openapi.json")).json()["components"]["securitySchemes"]


async def test_cors_preflight_from_an_allowed_origin_needs_no_key(
    client: httpx.AsyncClient,
) -> None:
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    allowed = await client.options("/speak", headers={"Origin": "https://app.example", **preflight})
    other = await client.options("/speak", headers={"Origin": "https://evil.example", **preflight})

    assert allowed.status_code == 200
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert "Access-Control-Allow-Origin" not in other.headers


async def test_with_auth_off_everyone_is_the_local_user_unlimited() -> None:
    # No database is reachable here: auth off must never need one.
    unreachable = open_engine(make_url("postgresql+psycopg://nobody@127.0.0.1:9/none"))
    settings = SecuritySettings(rate_limits=RateLimitSettings(synthesis_per_minute=1))
    app = _app(settings, unreachable)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://router") as client:
        for _ in range(3):
            response = await client.post("/speak", json={"input": "hi"})
            assert response.json() == {"user": "local"}
        assert (await client.get("/admin")).status_code == 200
