"""Bearer tokens from the operator's identity provider, verified with PyJWT.

The algorithm is fixed by configuration, never taken from the token, so a token cannot
choose `none` or turn the RS256 public key into an HMAC secret.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import jwt

from chorus_contracts import AuthenticationFailed, ConfigurationError, ServiceUnavailable
from chorus_router.identity import Principal, Scope
from chorus_router.security.auth import Caller, bearer_token
from chorus_router.security.settings import JwtSettings


class JwtAuthenticator:
    """Checks signature, expiry, issuer and audience; reads the user and scopes claims."""

    def __init__(self, settings: JwtSettings) -> None:
        self._settings = settings
        self._secret = _read_secret(settings)
        self._jwks = _read_jwks(settings)
        self._jwks_client = (
            jwt.PyJWKClient(settings.jwks_url, lifespan=settings.jwks_cache_s, timeout=5)
            if settings.jwks_url
            else None
        )

    async def authenticate(self, authorization: str | None) -> Caller:
        token = bearer_token(authorization)
        s = self._settings
        try:
            claims = jwt.decode(
                token,
                await self._key_for(token),
                algorithms=[s.algorithm],
                audience=s.audience,
                issuer=s.issuer,
                leeway=s.leeway_s,
                options={"require": ["exp", "iss", "aud", s.user_claim]},
            )
        except jwt.ExpiredSignatureError:
            raise AuthenticationFailed("The token has expired.") from None
        except jwt.InvalidAudienceError:
            raise AuthenticationFailed("The token is not meant for this service.") from None
        except jwt.InvalidIssuerError:
            raise AuthenticationFailed("The token's issuer is not trusted.") from None
        except jwt.PyJWKClientConnectionError:
            raise ServiceUnavailable("The identity provider's keys are unreachable.") from None
        except jwt.PyJWTError:
            raise AuthenticationFailed("The token is not valid.") from None
        user = claims[s.user_claim]
        if not isinstance(user, str) or not user:
            raise AuthenticationFailed(f"The token's '{s.user_claim}' claim is not a user id.")
        return Caller(Principal(user, _scopes(claims.get(s.scopes_claim))), f"user:{user}")

    async def _key_for(self, token: str) -> Any:
        if self._secret is not None:
            return self._secret
        if self._jwks_client is not None:
            # PyJWKClient fetches with urllib (blocking) and caches the key set.
            jwk = await asyncio.to_thread(self._jwks_client.get_signing_key_from_jwt, token)
            return jwk.key
        return _pick(self._jwks, jwt.get_unverified_header(token).get("kid")).key


def _scopes(claim: object) -> frozenset[Scope]:
    """Chorus's scopes among the claim's values; others (the IdP's own) are ignored."""
    values = claim.split() if isinstance(claim, str) else claim if isinstance(claim, list) else []
    known = {scope.value for scope in Scope}
    return frozenset(Scope(v) for v in values if isinstance(v, str) and v in known)


def _pick(keys: list[jwt.PyJWK], kid: object) -> jwt.PyJWK:
    if kid is None and len(keys) == 1:
        return keys[0]
    for key in keys:
        if key.key_id == kid:
            return key
    raise jwt.InvalidKeyError("no key in the key set matches the token")


def _read_secret(settings: JwtSettings) -> bytes | None:
    if settings.secret is not None:
        return settings.secret.get_secret_value().encode()
    if settings.secret_file is None:
        return None
    try:
        secret = settings.secret_file.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigurationError(f"security.jwt.secret_file: {exc}") from None
    if len(secret) < 32:
        raise ConfigurationError("security.jwt.secret_file: the secret needs 32 characters or more")
    return secret.encode()


def _read_jwks(settings: JwtSettings) -> list[jwt.PyJWK]:
    if settings.jwks_file is None:
        return []
    try:
        return jwt.PyJWKSet.from_json(settings.jwks_file.read_text(encoding="utf-8")).keys
    except (OSError, json.JSONDecodeError, jwt.PyJWTError) as exc:
        raise ConfigurationError(f"security.jwt.jwks_file: {exc}") from None
