"""A speech request owned by its response: whatever it holds is released once, when the
response ends or the client leaves, and `tts_active_requests` comes back down."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, MutableMapping
from typing import Any

from starlette.responses import Response, StreamingResponse

from chorus_router.metrics import RouterMetrics
from chorus_router.speech.lifecycle import Closer, Lifecycle, OwnedResponse

_Message = MutableMapping[str, Any]


def _active(metrics: RouterMetrics) -> float | None:
    return metrics.registry.get_sample_value("tts_active_requests")


def _noting(released: list[str], name: str) -> Closer:
    async def close() -> None:
        released.append(name)

    return close


async def test_release_runs_every_closer_once_last_held_first() -> None:
    metrics = RouterMetrics(list)
    lifecycle = Lifecycle(metrics)
    assert _active(metrics) == 1
    released: list[str] = []

    async def broken() -> None:
        released.append("broken")
        raise RuntimeError("a closer that fails")

    lifecycle.hold(_noting(released, "connection"))
    lifecycle.hold(broken)
    lifecycle.hold(_noting(released, "encoder"))
    await lifecycle.release()
    await lifecycle.release()
    assert released == ["encoder", "broken", "connection"], "one failing stops none"
    assert _active(metrics) == 0


async def test_a_streamed_response_releases_after_its_last_byte() -> None:
    metrics = RouterMetrics(list)
    lifecycle = Lifecycle(metrics)
    released: list[str] = []
    lifecycle.hold(_noting(released, "delivery"))

    async def body() -> AsyncIterator[bytes]:
        yield b"first "
        yield b"last"

    async def produce() -> Response:
        return StreamingResponse(body())

    sent: list[_Message] = []

    async def send(message: _Message) -> None:
        sent.append(message)

    async def receive() -> _Message:
        await asyncio.Event().wait()  # the client stays
        raise AssertionError("unreachable")

    await OwnedResponse(produce, lifecycle)({"type": "http"}, receive, send)
    assert b"".join(m.get("body", b"") for m in sent) == b"first last"
    assert released == ["delivery"]
    assert _active(metrics) == 0


async def test_a_client_that_leaves_cancels_the_work_and_releases_it() -> None:
    metrics = RouterMetrics(list)
    lifecycle = Lifecycle(metrics)
    released: list[str] = []
    routing = asyncio.Event()
    cancelled = asyncio.Event()

    async def produce() -> Response:
        lifecycle.hold(_noting(released, "provider connection"))
        routing.set()
        try:
            await asyncio.Event().wait()  # a provider that has not answered yet
        except asyncio.CancelledError:
            cancelled.set()
            raise
        raise AssertionError("unreachable")

    async def receive() -> _Message:
        await routing.wait()
        return {"type": "http.disconnect"}

    sent: list[_Message] = []

    async def send(message: _Message) -> None:
        sent.append(message)

    await OwnedResponse(produce, lifecycle)({"type": "http"}, receive, send)
    assert cancelled.is_set()
    assert lifecycle.client_left
    assert released == ["provider connection"]
    assert sent == [], "nothing is answered to a client that has gone"
    assert _active(metrics) == 0
