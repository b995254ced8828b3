"""JWT mode on real routers: an HS256 secret from a mounted file, RS256 keys from a JWKS URL."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import openai
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from support.processes import ServiceProcess, free_port
from support.secure_stack import MODEL, openai_client, start_secure_router

pytestmark = pytest.mark.e2e

SECRET = "hs256-secret-as-a-kubernetes-secret-would-mount-it"
ISSUER, AUDIENCE = "https://id.example", "chorus-router"


def _token(key: Any, algorithm: str = "HS256", kid: str | None = None, **changes: Any) -> str:
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "alice",
        "exp": int(time.time()) + 300,
        "scope": "speech",
        **changes,
    }
    return jwt.encode(claims, key, algorithm, {"kid": kid} if kid else None)


def _jwt_env(**values: str) -> dict[str, str]:
    env = {"MODE": "jwt", "JWT__ISSUER": ISSUER, "JWT__AUDIENCE": AUDIENCE, **values}
    return {f"CHORUS_ROUTER_SECURITY__{name}": value for name, value in env.items()}


@pytest.fixture(scope="module")
def hs256_router(
    registry: Path, security_logs: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServiceProcess]:
    secret_file = tmp_path_factory.mktemp("secret") / "jwt-secret"
    secret_file.write_text(SECRET + "\n")
    env = _jwt_env(JWT__ALGORITHM="HS256", JWT__SECRET_FILE=str(secret_file))
    proc = start_secure_router(registry, security_logs, env)
    yield proc
    proc.stop()


def _speak(router: ServiceProcess, token: str) -> bytes:
    return (
        openai_client(router, token)
        .audio.speech.create(model=MODEL, voice="alloy", input="Hi.", response_format="pcm")
        .content
    )


def test_a_valid_token_speaks(hs256_router: ServiceProcess) -> None:
    assert len(_speak(hs256_router, _token(SECRET))) > 1000


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"exp": int(time.time()) - 60}, "expired"),
        ({"aud": "another-service"}, "not meant for this service"),
        ({"iss": "https://elsewhere.example"}, "issuer"),
    ],
)
def test_bad_tokens_get_401(
    hs256_router: ServiceProcess, changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(openai.AuthenticationError, match=message) as caught:
        _speak(hs256_router, _token(SECRET, **changes))
    assert caught.value.response.json()["error"]["code"] == "invalid_api_key"


def test_a_token_without_the_scope_gets_403(hs256_router: ServiceProcess) -> None:
    token = _token(SECRET, scope="voices")

    with pytest.raises(openai.PermissionDeniedError):
        _speak(hs256_router, token)
    admin = httpx.get(
        f"{hs256_router.url}/api/v1/audio/health",
        headers={"Authorization": f"Bearer {_token(SECRET, scope='admin')}"},
    )
    assert admin.status_code == 200


@pytest.fixture(scope="module")
def jwks_server(
    security_logs: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[rsa.RSAPrivateKey, str]]:
    """The identity provider's key set, served over HTTP by a process of its own."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
    root = tmp_path_factory.mktemp("idp")
    (root / "jwks.json").write_text(json.dumps({"keys": [{**public, "kid": "idp-1"}]}))
    port = free_port()
    args = (str(port), "--bind", "127.0.0.1", "--directory", str(root))
    server = ServiceProcess("jwks", "http.server", port, {}, security_logs, args).start()
    try:
        server.wait_ready("/jwks.json")
        yield private, f"{server.url}/jwks.json"
    finally:
        server.stop()


def test_rs256_tokens_are_checked_against_the_jwks_url(
    registry: Path, security_logs: Path, jwks_server: tuple[rsa.RSAPrivateKey, str]
) -> None:
    private, url = jwks_server
    impostor = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    router = start_secure_router(registry, security_logs, _jwt_env(JWT__JWKS_URL=url))
    try:
        assert len(_speak(router, _token(private, "RS256", kid="idp-1"))) > 1000
        with pytest.raises(openai.AuthenticationError):
            _speak(router, _token(impostor, "RS256", kid="idp-1"))
    finally:
        router.stop()
