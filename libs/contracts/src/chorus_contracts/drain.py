"""Graceful drain: on SIGTERM a service refuses new requests with 503 and lets those in flight end.

Kubernetes sends SIGTERM after the pod's preStop sleep, while endpoints drop the pod; clients
that already hold a connection (the router, an ingress, a load balancer) may still bring
requests. Those get a 503 in the error taxonomy's shape with `Retry-After`, so they move on
at once, and `/readyz` turns not-ready; requests already in flight (streams, whole files,
downloads) run to their last byte, for at most `timeout_s` (the pod's grace period is sized
to match). Then the process exits 0. A second signal stops without waiting.
WebSocket sessions count as work too: a new one is closed with 1001 (going away), and one
that is open learns of the drain through `Drain.begun` to end itself when it can.
The router and every provider are served this way. Needs the `http` extra.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from chorus_contracts.access_log import AccessLog
from chorus_contracts.errors import ServiceUnavailable
from chorus_contracts.responses import error_response

log = logging.getLogger("chorus.drain")

# Answered while draining: the kubelet's liveness probe and the last Prometheus scrapes.
_STILL_SERVED = frozenset({"/healthz", "/metrics"})
_READINESS = "/readyz"
# Probes and scrapes are not work a drain waits for.
_NOT_WORK = _STILL_SERVED | {_READINESS}
# Once drained, uvicorn only has idle keep-alive connections left to close.
_CLOSE_CONNECTIONS_S = 5
# RFC 6455: the server is going away; a client reconnects, to another replica.
GOING_AWAY = 1001


class Drain:
    """Counts requests in flight; once begun, says when the last one ended or time ran out."""

    def __init__(
        self, service: str, timeout_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.service = service
        self.timeout_s = timeout_s
        self.in_flight = 0
        self._clock = clock
        self._deadline: float | None = None
        # Who waits in `begun`: futures of the loop they wait on (an app may be served by
        # one loop after another, as a test client does, and an Event binds to the first).
        self._waiting: set[asyncio.Future[None]] = set()
        self._announced = False

    @property
    def reason(self) -> str:
        return f"{self.service} is shutting down"

    @property
    def draining(self) -> bool:
        return self._deadline is not None

    def begin(self) -> None:
        if self._deadline is None:
            self._deadline = self._clock() + self.timeout_s
            log.info(
                "draining: refusing new requests, %d in flight, at most %.0fs",
                self.in_flight,
                self.timeout_s,
            )

    async def begun(self) -> None:
        """Return once the drain has begun and the event loop has seen it."""
        if self._announced:
            return
        waiting = asyncio.get_running_loop().create_future()
        self._waiting.add(waiting)
        try:
            await waiting
        finally:
            self._waiting.discard(waiting)

    def announce(self) -> None:
        """On the event loop: wake whoever waits on `begun`. (`begin` runs in a signal
        handler, where waking the loop's waiters is not safe.)"""
        if self.draining and not self._announced:
            self._announced = True
            for waiting in self._waiting:
                if not waiting.done():
                    waiting.set_result(None)

    def done(self) -> bool:
        if self._deadline is None:
            return False
        if self.in_flight and self._clock() >= self._deadline:
            log.warning("drain timed out with %d requests in flight", self.in_flight)
            return True
        return self.in_flight == 0

    def refusal(self, path: str) -> Response:
        """What a request to `path` gets while draining."""
        reason = self.reason
        if path == _READINESS:
            return JSONResponse({"status": "not ready", "reason": reason}, status_code=503)
        return error_response(ServiceUnavailable(reason, retry_after=1))


class DrainMiddleware:
    """Refuses requests with 503 (WebSocket sessions with 1001) while draining; counts the
    others until their body ends, or their session closes."""

    def __init__(self, app: ASGIApp, drain: Drain) -> None:
        self._app = app
        self._drain = drain

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and self._drain.draining:
            await _going_away(self._drain.reason, receive, send)
            return
        if scope["type"] not in ("http", "websocket"):
            await self._app(scope, receive, send)
            return
        path = scope["path"]
        if self._drain.draining and path not in _STILL_SERVED:
            await self._drain.refusal(path)(scope, receive, send)
            return
        if path in _NOT_WORK:
            await self._app(scope, receive, send)
            return
        # A streaming response's call returns after its last chunk, a WebSocket's after
        # its close: the whole request or session.
        self._drain.in_flight += 1
        try:
            await self._app(scope, receive, send)
        finally:
            self._drain.in_flight -= 1


async def _going_away(reason: str, receive: Receive, send: Send) -> None:
    """Accept, then close with 1001 and the reason: a refusal before the handshake reaches
    a client as a bare HTTP 403, with no reason it could show."""
    await receive()
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.close", "code": GOING_AWAY, "reason": reason})


def install_drain(app: Starlette, service: str, timeout_s: float) -> Drain:
    """Add the drain's middleware to `app` and keep the drain on `app.state` for
    `serve_draining`; call after the middleware that must also see refused requests."""
    drain = Drain(service, timeout_s)
    app.state.drain = drain
    app.add_middleware(DrainMiddleware, drain=drain)
    return drain


class DrainingServer(uvicorn.Server):
    """uvicorn, except that the first SIGTERM/SIGINT drains before the server stops."""

    def __init__(self, config: uvicorn.Config, drain: Drain) -> None:
        super().__init__(config)
        self._drain = drain

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self._drain.draining:
            # uvicorn re-raises the signals it handled once stopped: a second one exits by it.
            super().handle_exit(sig, frame)
            return
        self._drain.begin()

    async def on_tick(self, counter: int) -> bool:
        self._drain.announce()
        if self._drain.done():
            self.should_exit = True
        return await super().on_tick(counter)


def serve_draining(app: Starlette, **config: Any) -> None:
    """Run `app`, its drain installed, under uvicorn: what `uvicorn.run` does, plus the drain."""
    # The access line is written as a response ends (`AccessLog`); uvicorn's came on the
    # way to the first byte.
    server_config = uvicorn.Config(
        AccessLog(app), timeout_graceful_shutdown=_CLOSE_CONNECTIONS_S, access_log=False, **config
    )
    DrainingServer(server_config, app.state.drain).run()
    # Drained and shut down, the process only exits now. Skip the interpreter's last cyclic
    # collections: over a service's heap they take about a second (measured under load),
    # which every pod stop and every test's teardown would wait for, to free nothing the
    # exit does not.
    gc.freeze()
