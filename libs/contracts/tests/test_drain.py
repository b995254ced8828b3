"""The drain's rules, on a small app and a clock the test moves (processes: tests/resilience)."""

from __future__ import annotations

import asyncio

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from chorus_contracts.drain import Drain, install_drain


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_drain_ends_with_the_last_request_or_at_its_timeout() -> None:
    clock = Clock()
    drain = Drain("router", timeout_s=30, clock=clock)
    drain.in_flight = 2
    assert not drain.done(), "not draining yet"
    drain.begin()
    drain.in_flight = 1
    clock.now += 29
    assert not drain.done()
    clock.now += 1
    assert drain.done(), "time is up: the last request is cut"
    assert Drain("router", 30).done() is False
    ended = Drain("router", 30)
    ended.begin()
    assert ended.done(), "nothing in flight: done at once"


async def test_while_draining_requests_in_flight_finish_and_new_ones_get_503() -> None:
    started, release = asyncio.Event(), asyncio.Event()

    async def slow(_: Request) -> PlainTextResponse:
        started.set()
        await release.wait()
        return PlainTextResponse("all of it")

    async def ok(_: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    app = Starlette(
        routes=[Route(path, ok) for path in ("/healthz", "/readyz", "/metrics")]
        + [Route("/work", slow)]
    )
    drain = install_drain(app, "router", timeout_s=60)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://router"
    ) as client:
        in_flight = asyncio.create_task(client.get("/work"))
        await started.wait()
        assert (await client.get("/readyz")).status_code == 200
        assert drain.in_flight == 1, "probes are not work the drain waits for"

        drain.begin()
        refused = await client.get("/work")
        assert refused.status_code == 503
        assert refused.headers["retry-after"] == "1"
        assert refused.json()["error"]["code"] == "service_unavailable"
        assert refused.json()["error"]["message"] == "router is shutting down"
        readyz = await client.get("/readyz")
        assert (readyz.status_code, readyz.json()["status"]) == (503, "not ready")
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.get("/metrics")).status_code == 200
        assert not drain.done()

        release.set()
        assert (await in_flight).text == "all of it"
        assert drain.done()


def test_sessions_learn_of_a_drain_once_the_loop_announces_it() -> None:
    """`begin` runs in a signal handler; waiters wake on the loop's next tick, on whichever
    loop they wait (an app may be served by one loop after another)."""
    drain = Drain("router", 30)

    async def woken_after_announce() -> bool:
        waiting = asyncio.create_task(drain.begun())
        drain.announce()  # nothing to announce yet
        await asyncio.sleep(0)
        early = waiting.done()
        drain.begin()
        drain.announce()
        await asyncio.wait_for(waiting, 5)
        return not early

    assert asyncio.run(woken_after_announce())
    # Announced, `begun` returns at once, on another loop too.
    asyncio.run(asyncio.wait_for(drain.begun(), 5))
