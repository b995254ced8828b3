"""A router told to stop (SIGTERM) while a live speech session is mid-turn: the turn is
spoken to its end, a new turn and a new session are refused, the session closes with 1001
(going away), and the router exits 0."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import httpx
import pytest

from support.live_client import Heard, connect, live_url, receive_until, send
from support.processes import ServiceProcess, wait_until
from support.stack import Stack, entry, start_provider, start_router

pytestmark = pytest.mark.timeout(90)

BEGUN = "The first sentence is spoken before the router is told to stop. Then a second one. "
GOES_ON = "And the turn goes on to its very end, after the signal."
EXIT_BOUND_S = 20


def _draining(router: ServiceProcess) -> bool:
    return httpx.get(f"{router.url}/readyz").status_code == 503


async def _refused_session(router: ServiceProcess) -> Heard:
    heard = Heard()
    async with connect(live_url(router.url)) as ws:
        await receive_until(ws, heard, None)
    return heard


async def _turn_across_a_drain(router: ServiceProcess) -> tuple[Heard, Heard]:
    heard = Heard()
    async with connect(live_url(router.url)) as ws:
        await receive_until(ws, heard, "session.created")
        await send(ws, "session.update", session={"model": "espeak", "voice": "en-us"})
        await receive_until(ws, heard, "session.updated")
        # Not flushed: the turn is in progress, and only the client can end it.
        await send(ws, "input_text.append", text=BEGUN)
        await receive_until(ws, heard, "speech.audio.delta")

        router.signal(signal.SIGTERM)
        ready = await asyncio.to_thread(wait_until, lambda: _draining(router), 10)
        assert ready, "readiness fails at once"
        refused = await _refused_session(router)

        await send(ws, "input_text.append", text=GOES_ON)
        await send(ws, "input_text.flush")
        await send(ws, "input_text.append", text="A new turn, which is refused.")
        await receive_until(ws, heard, None)
    return heard, refused


def test_a_session_finishes_its_turn_refuses_new_ones_and_closes_going_away(
    tmp_path: Path,
) -> None:
    espeak = start_provider("espeak", tmp_path)
    registry = tmp_path / "providers.yaml"
    Stack.write_registry_file(registry, [entry("espeak", espeak, ["espeak"])])
    # No idle flush within the test: the turn ends when the client flushes it.
    env = {"CHORUS_ROUTER_LIVE__FLUSH_AFTER_S": "60"}
    stack = Stack(start_router(registry, tmp_path, env), {"espeak": espeak}, registry)
    try:
        espeak.wait_ready()
        stack.router.wait_ready()
        stack.wait_for_states({"espeak": True})

        heard, refused = asyncio.run(_turn_across_a_drain(stack.router))

        assert (refused.close_code, refused.close_reason) == (1001, "router is shutting down")
        assert (heard.close_code, heard.close_reason) == (1001, "router is shutting down")
        [done] = heard.of_type("speech.audio.done")
        # Every piece of the turn was spoken, the text sent after the signal too.
        assert done["usage"]["characters"] >= len(BEGUN + GOES_ON) - 3
        assert done["usage"]["audio_seconds"] > 4.0
        [error] = heard.of_type("error")
        assert error["error"]["code"] == "service_unavailable"
        assert "takes no new turns" in error["error"]["message"]
        assert {e["turn_id"] for e in heard.of_type("speech.audio.delta")} == {done["turn_id"]}
        assert stack.router.wait_exit(EXIT_BOUND_S) == 0, "the drained router exits by itself"
    finally:
        stack.stop()
