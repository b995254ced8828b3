"""A speech request owned by its response, from routing to the last byte.

The handler only validates and hands back an `OwnedResponse`; routing, delivery and every
release happen inside the response's ASGI call, under a watch for the client leaving.
When the client goes (before the first byte, mid-stream, or while a whole file is being
made), the work is cancelled at once: provider connections close, so providers stop
synthesizing, and encoding stops. `tts_active_requests` and whatever the request held are
released when the response ends or is abandoned, never earlier and never not at all.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import suppress

from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from chorus_contracts import run_while_connected
from chorus_router.metrics import RouterMetrics

Closer = Callable[[], Awaitable[None]]


class Lifecycle:
    """What one request holds until its response has ended: the active gauge and closers."""

    def __init__(self, metrics: RouterMetrics) -> None:
        self._metrics = metrics
        self._closers: list[Closer] = []
        self._released = False
        self.client_left = False
        metrics.active.inc()

    def hold(self, closer: Closer) -> None:
        """Run `closer` when the request ends, however it ends (it must be idempotent)."""
        self._closers.append(closer)

    @property
    def holds_anything(self) -> bool:
        return bool(self._closers)

    async def release(self) -> None:
        if self._released:
            return
        self._released = True
        try:
            for closer in reversed(self._closers):
                with suppress(Exception):
                    await closer()
        finally:
            self._metrics.active.dec()


class OwnedResponse(Response):
    """Runs `produce` (routing, then the response it makes) while the client is connected."""

    def __init__(self, produce: Callable[[], Awaitable[Response]], lifecycle: Lifecycle) -> None:
        self.status_code = 200
        self.background = None
        self.init_headers()
        self._produce = produce
        self._lifecycle = lifecycle

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await run_while_connected(self._serve(scope, receive, send), receive, self._left)
        finally:
            await self._lifecycle.release()

    def _left(self) -> None:
        self._lifecycle.client_left = True

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            response = await self._produce()
            if isinstance(response, StreamingResponse):
                # The watch above already listens for the disconnect; Starlette's own
                # listener would read `receive` a second time.
                await response.stream_response(send)
            else:
                await response(scope, receive, send)
        finally:
            # Right after the last byte, so that a client reading /metrics next sees it.
            await self._lifecycle.release()
