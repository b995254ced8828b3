"""Authentication: who is calling, decided once per request before any handler runs.

Every path but the open ones (probes, metrics, the API description, the playground's static
files) needs credentials, so a handler that forgets to ask for a scope is still never
reachable anonymously.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import parse_qs

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from chorus_contracts import AuthenticationFailed, ChorusError
from chorus_contracts.responses import error_response
from chorus_router.identity import Principal
from chorus_router.security.keys import KeyStore

OPEN_PATHS = frozenset({"/healthz", "/readyz", "/metrics", "/openapi.json", "/docs", "/redoc"})
# A signed download link is its own credential (a browser has no API key); its handler
# verifies the signature and answers 404 to anything else, never falling back on a user.
SIGNED_PREFIX = "/api/v1/audio/files/"
# The playground's page and files are public; the API calls it makes carry the user's key.
PAGE_PATHS = frozenset({"/", "/playground"})
PAGE_PREFIX = "/playground/"
# A browser cannot set headers on a WebSocket. As with OpenAI's Realtime API, it may send the
# key as a subprotocol: `new WebSocket(url, ["chorus-live", "openai-insecure-api-key." + key])`.
KEY_SUBPROTOCOL = "openai-insecure-api-key."


@dataclass(frozen=True)
class Caller:
    """An authenticated caller: who (for scopes and ownership) and under which name its
    rate limits are counted (one API key, or one token subject)."""

    principal: Principal
    rate_limit_key: str


class Authenticator(Protocol):
    async def authenticate(self, authorization: str | None) -> Caller: ...


def bearer_token(authorization: str | None) -> str:
    """The credential of an `Authorization: Bearer ...` header, as OpenAI clients send it."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationFailed(
            "You didn't provide an API key. Send it in an Authorization header using Bearer "
            "auth (Authorization: Bearer YOUR_KEY)."
        )
    return token.strip()


class ApiKeyAuthenticator:
    """Keys from the store; the database look-up runs in a thread to keep the loop free."""

    def __init__(self, store: KeyStore) -> None:
        self._store = store

    async def authenticate(self, authorization: str | None) -> Caller:
        key = bearer_token(authorization)
        record = await asyncio.to_thread(self._store.verify, key)
        # The message never repeats the key: error bodies end up in client logs.
        if record is None:
            raise AuthenticationFailed("Incorrect API key provided.")
        if record.revoked:
            raise AuthenticationFailed("This API key has been revoked.")
        return Caller(
            Principal(record.user_id, record.scopes, record.lexicons), f"key:{record.key_id}"
        )


class Authentication:
    """ASGI middleware: authenticates every request outside OPEN_PATHS, answers 401 when it
    cannot, and leaves the principal on the request for `current_principal`."""

    def __init__(self, app: ASGIApp, authenticator: Authenticator) -> None:
        self._app = app
        self._authenticator = authenticator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or _public(scope):
            await self._app(scope, receive, send)
            return
        try:
            caller = await self._authenticator.authenticate(_authorization(scope))
        except ChorusError as exc:
            if scope["type"] == "websocket":
                await _refuse_websocket(exc, scope, receive, send)
            else:
                await error_response(exc)(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        state["principal"] = caller.principal
        state["rate_limit_key"] = caller.rate_limit_key
        await self._app(scope, receive, send)


def _public(scope: Scope) -> bool:
    """Paths anyone may reach: health, signed downloads, and the playground's own files."""
    if scope["type"] != "http":
        return False
    path = scope["path"]
    if path in OPEN_PATHS or _signed_download(scope):
        return True
    page = path in PAGE_PATHS or path.startswith(PAGE_PREFIX)
    return page and scope["method"] in ("GET", "HEAD")


def _authorization(scope: Scope) -> str | None:
    """The Authorization header; for a WebSocket, else `?token=`, `xi-api-key` or the key
    subprotocol (a browser cannot set headers on one: it sends a short-lived JWT or a key)."""
    header = Headers(scope=scope).get("authorization")
    if header is not None or scope["type"] != "websocket":
        return header
    tokens = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token")
    if tokens:
        return f"Bearer {tokens[0]}"
    # ElevenLabs' clients (stream-input) send the key in a header of their own.
    vendor_key = Headers(scope=scope).get("xi-api-key")
    if vendor_key is not None:
        return f"Bearer {vendor_key}"
    offered = scope.get("subprotocols", [])
    keys = [p.removeprefix(KEY_SUBPROTOCOL) for p in offered if p.startswith(KEY_SUBPROTOCOL)]
    return f"Bearer {keys[0]}" if keys else None


def accepted_subprotocol(scope: Scope) -> str | None:
    """The subprotocol a WebSocket is accepted with: the first offered that carries no key
    (a browser that offers any fails the handshake unless one is chosen; the key is never
    echoed back)."""
    offered: list[str] = scope.get("subprotocols", [])
    return next((p for p in offered if not p.startswith(KEY_SUBPROTOCOL)), None)


async def _refuse_websocket(exc: ChorusError, scope: Scope, receive: Receive, send: Send) -> None:
    """Accept, then close with 1008 and the reason: a refusal before the handshake reaches
    a client as a bare HTTP 403, with no reason it could show."""
    await receive()
    await send({"type": "websocket.accept", "subprotocol": accepted_subprotocol(scope)})
    reason = exc.message.encode()[:123].decode(errors="ignore")
    await send({"type": "websocket.close", "code": 1008, "reason": reason})


def _signed_download(scope: Scope) -> bool:
    if scope["method"] not in ("GET", "HEAD") or not scope["path"].startswith(SIGNED_PREFIX):
        return False
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    return "signature" in query
