"""Graceful drain: on SIGTERM a provider refuses new work with 503 and lets its streams finish.

Kubernetes sends SIGTERM after the pod's preStop sleep, once the pod has left its Service's
endpoints; connections the router already holds may still bring requests. Those get a 503 in
the contract's shape, so the router moves on at once, while syntheses in flight run to their
last byte, for at most `drain_timeout_s` (the operator sizes the pod's grace period to match).
A second signal stops at once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

import uvicorn
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from chorus_contracts import ServiceUnavailable

log = logging.getLogger("chorus.provider.drain")

# Answered while draining: the kubelet's liveness probe and the last Prometheus scrapes.
_STILL_SERVED = frozenset({"/healthz", "/metrics"})
# The work a drain waits for.
_WORK = frozenset({"/v1/synthesize"})


class Drain:
    """Counts syntheses in flight; once begun, says when the last one ended or time ran out."""

    def __init__(self, timeout_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.timeout_s = timeout_s
        self.in_flight = 0
        self._clock = clock
        self._deadline: float | None = None

    @property
    def draining(self) -> bool:
        return self._deadline is not None

    def begin(self) -> None:
        if self._deadline is None:
            self._deadline = self._clock() + self.timeout_s
            log.info(
                "draining: refusing new work, %d in flight, at most %.0fs",
                self.in_flight,
                self.timeout_s,
            )

    def done(self) -> bool:
        if self._deadline is None:
            return False
        if self.in_flight and self._clock() >= self._deadline:
            log.warning("drain timed out with %d syntheses in flight", self.in_flight)
            return True
        return self.in_flight == 0


class DrainMiddleware:
    """Refuses requests with 503 while draining; counts syntheses until their body ends."""

    def __init__(self, app: ASGIApp, drain: Drain) -> None:
        self._app = app
        self._drain = drain

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        path = scope["path"]
        if self._drain.draining and path not in _STILL_SERVED:
            refusal = ServiceUnavailable("provider is shutting down", retry_after=1)
            response = JSONResponse(
                refusal.body().model_dump(), status_code=refusal.status, headers=refusal.headers()
            )
            await response(scope, receive, send)
            return
        if path not in _WORK:
            await self._app(scope, receive, send)
            return
        # A streaming response's call returns after its last chunk: the whole synthesis.
        self._drain.in_flight += 1
        try:
            await self._app(scope, receive, send)
        finally:
            self._drain.in_flight -= 1


class DrainingServer(uvicorn.Server):
    """uvicorn, except that the first SIGTERM/SIGINT drains before the server stops."""

    def __init__(self, config: uvicorn.Config, drain: Drain) -> None:
        super().__init__(config)
        self._drain = drain

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self._drain.draining:
            super().handle_exit(sig, frame)
            return
        self._drain.begin()

    async def on_tick(self, counter: int) -> bool:
        if self._drain.done():
            self.should_exit = True
        return await super().on_tick(counter)


def serve_draining(app: Any, drain: Drain, **config: Any) -> None:
    """Run `app` under uvicorn with `drain` (what `uvicorn.run` does, plus the drain)."""
    # Once drained, only idle keep-alive connections remain to be closed.
    server = DrainingServer(uvicorn.Config(app, timeout_graceful_shutdown=5, **config), drain)
    server.run()
