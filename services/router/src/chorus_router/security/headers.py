"""Security headers on every response, and CORS for the browser origins an operator allows."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chorus_router.security.settings import CorsSettings

# The API answers JSON and audio, never pages: nothing may sniff, frame or be referred from it.
# HSTS is left to the TLS-terminating ingress, which knows whether HTTPS is in use.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
}
# The playground's pages: scripts, styles, requests and media from the router's own origin
# only (audio plays from blob: URLs made in the page); no inline script, no outside font.
PAGE_HEADERS = {
    "Content-Security-Policy": "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "media-src 'self' blob:",
            "connect-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    ),
}


class SecurityHeaders:
    """ASGI middleware: adds SECURITY_HEADERS unless a handler set them itself."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self._app(scope, receive, send_with_headers)


def install_cors(app: FastAPI, settings: CorsSettings) -> None:
    """No origins configured means no CORS middleware: browsers then refuse cross-origin calls."""
    if not settings.allow_origins:
        return
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.allow_origins,
        allow_methods=settings.allow_methods,
        allow_headers=settings.allow_headers,
        allow_credentials=settings.allow_credentials,
        expose_headers=[
            "Retry-After",
            "X-Request-Id",
            "X-Chorus-Provider",
            "X-Chorus-Cache",
            "X-Chorus-Markup-Dropped",
            "X-Chorus-Markup-Approximated",
            "X-Download-Path",
            "X-Download-Expires-At",
            "Content-Range",
            "Server-Timing",
        ],
        max_age=settings.max_age_s,
    )
