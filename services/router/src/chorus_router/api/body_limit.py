"""Refuse request bodies over a size limit before they are read into memory."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chorus_contracts import PayloadTooLarge
from chorus_contracts.responses import error_response


class BodyLimit:
    """ASGI middleware: a declared or streamed body over `max_bytes` gets 413.

    `path_limits` raises the limit for exact paths (voice uploads), which bound their parts
    again themselves."""

    def __init__(
        self, app: ASGIApp, max_bytes: int, path_limits: Mapping[str, int] | None = None
    ) -> None:
        self._app = app
        self._max_bytes = max_bytes
        self._path_limits = dict(path_limits or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        max_bytes = self._path_limits.get(scope["path"], self._max_bytes)
        too_large = PayloadTooLarge(f"request body is larger than {max_bytes} bytes")
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_bytes:
            await error_response(too_large)(scope, receive, send)
            return
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > max_bytes:
                    raise too_large
            return message

        await self._app(scope, limited_receive, send)
