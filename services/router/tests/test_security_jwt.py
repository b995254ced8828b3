"""JWT verification: HS256 secrets and RS256 key sets, with issuer, audience and expiry."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from pydantic import SecretStr

from chorus_contracts import AuthenticationFailed, ConfigurationError
from chorus_router.identity import Scope
from chorus_router.security.jwt_auth import JwtAuthenticator
from chorus_router.security.settings import JwtSettings

SECRET = "a-test-secret-that-is-long-enough-for-hs256"
ISSUER, AUDIENCE = "https://id.example", "chorus"


def _claims(**changes: Any) -> dict[str, Any]:
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "alice",
        "exp": int(time.time()) + 300,
        "scope": "speech voices openid",
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _hs256() -> JwtAuthenticator:
    return JwtAuthenticator(
        JwtSettings(algorithm="HS256", issuer=ISSUER, audience=AUDIENCE, secret=SecretStr(SECRET))
    )


def _bearer(token: str) -> str:
    return f"Bearer {token}"


async def test_a_valid_token_names_the_user_and_its_chorus_scopes() -> None:
    caller = await _hs256().authenticate(_bearer(jwt.encode(_claims(), SECRET, "HS256")))

    assert caller.principal.user_id == "alice"
    assert caller.principal.scopes == {Scope.SPEECH, Scope.VOICES}
    assert caller.rate_limit_key == "user:alice"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"exp": -10}, "expired"),
        ({"aud": "someone-else"}, "not meant for this service"),
        ({"iss": "https://evil.example"}, "issuer"),
        ({"exp": None}, "not valid"),
        ({"sub": None}, "not valid"),
    ],
)
async def test_bad_claims_are_refused(changes: dict[str, Any], message: str) -> None:
    # Times are made here, not at collection: a long suite must not expire the tokens.
    if isinstance(changes.get("exp"), int):
        changes = {**changes, "exp": int(time.time()) + changes["exp"]}
    token = jwt.encode(_claims(**changes), SECRET, "HS256")

    with pytest.raises(AuthenticationFailed, match=message) as caught:
        await _hs256().authenticate(_bearer(token))
    assert token not in caught.value.message


async def test_tokens_signed_otherwise_are_refused() -> None:
    unsigned = jwt.encode(_claims(), "", "none")
    wrong_secret = jwt.encode(_claims(), SECRET + "x", "HS256")

    for token in (unsigned, wrong_secret, "not.a.token", "garbage"):
        with pytest.raises(AuthenticationFailed):
            await _hs256().authenticate(_bearer(token))


async def test_a_missing_header_is_refused() -> None:
    with pytest.raises(AuthenticationFailed, match="didn't provide"):
        await _hs256().authenticate(None)


def _rsa_jwks(tmp_path: Path) -> tuple[rsa.RSAPrivateKey, Path]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [{**public, "kid": "k1", "use": "sig"}]}))
    return private, path


async def test_rs256_from_a_jwks_file(tmp_path: Path) -> None:
    private, jwks = _rsa_jwks(tmp_path)
    auth = JwtAuthenticator(JwtSettings(issuer=ISSUER, audience=AUDIENCE, jwks_file=jwks))

    good = jwt.encode(_claims(scope=None, roles=["admin"]), private, "RS256", {"kid": "k1"})
    unknown_kid = jwt.encode(_claims(), private, "RS256", {"kid": "k2"})

    settings = JwtSettings(issuer=ISSUER, audience=AUDIENCE, jwks_file=jwks, scopes_claim="roles")
    caller = await JwtAuthenticator(settings).authenticate(_bearer(good))
    assert caller.principal.scopes == {Scope.ADMIN}
    with pytest.raises(AuthenticationFailed):
        await auth.authenticate(_bearer(unknown_kid))


async def test_rs256_refuses_an_hmac_token_made_with_the_public_key(tmp_path: Path) -> None:
    """The algorithm-confusion attack: the public key used as an HS256 secret."""
    private, jwks = _rsa_jwks(tmp_path)
    auth = JwtAuthenticator(JwtSettings(issuer=ISSUER, audience=AUDIENCE, jwks_file=jwks))
    pem = private.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    header = {"alg": "HS256", "typ": "JWT", "kid": "k1"}
    signed = ".".join(_b64(json.dumps(part).encode()) for part in (header, _claims()))
    forged = f"{signed}.{_b64(hmac.new(pem, signed.encode(), hashlib.sha256).digest())}"

    with pytest.raises(AuthenticationFailed):
        await auth.authenticate(_bearer(forged))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_an_unreadable_key_source_stops_start_up(tmp_path: Path) -> None:
    (tmp_path / "jwks.json").write_text("{not json")
    short = tmp_path / "secret"
    short.write_text("short")

    with pytest.raises(ConfigurationError, match="jwks_file"):
        JwtAuthenticator(
            JwtSettings(issuer=ISSUER, audience=AUDIENCE, jwks_file=tmp_path / "jwks.json")
        )
    with pytest.raises(ConfigurationError, match="secret_file"):
        JwtAuthenticator(
            JwtSettings(algorithm="HS256", issuer=ISSUER, audience=AUDIENCE, secret_file=short)
        )
