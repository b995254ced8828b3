"""The access line of every web service: one per HTTP request, written as it ends."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("chorus.access")


class AccessLog:
    """One line per HTTP request, written when its response has ended, with how long it
    took. uvicorn's own line (off in `serve_draining`) was written as the response started, on
    the way to a streamed response's first byte: 0.3 ms there, 0.7 ms while an engine held
    both cores (docs/performance.md, router overhead). The path goes without its query,
    where a signed download link keeps its signature."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        status: int | None = None

        async def watched(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self._app(scope, receive, watched)
        finally:
            client = scope.get("client")
            log.info(
                '%s - "%s %s HTTP/%s" %s',
                f"{client[0]}:{client[1]}" if client else "-",
                scope["method"],
                scope["path"],
                scope["http_version"],
                status or "-",  # none: the client left, or the app failed, before it began
                extra={"duration_ms": round((time.perf_counter() - started) * 1000, 1)},
            )
