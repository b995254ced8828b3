"""A live session's message rate and length: past either the router closes the session
with 1008 and a reason, never leaves it hanging, and frees its slot."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed

from support.idleness import gauge
from support.live_client import Heard, connect, live_url, receive_until, send
from support.processes import ServiceProcess
from support.secure_stack import MODEL, start_secure_router

pytestmark = pytest.mark.e2e

MESSAGES_PER_S = 20
BURST = 50
SESSION_S = 2


@pytest.fixture(scope="module")
def router(registry: Path, security_logs: Path) -> Iterator[ServiceProcess]:
    env = {
        "CHORUS_ROUTER_LIVE__MAX_MESSAGES_PER_S": str(MESSAGES_PER_S),
        "CHORUS_ROUTER_LIVE__MESSAGE_BURST": str(BURST),
    }
    proc = start_secure_router(registry, security_logs, env)
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def short_router(registry: Path, security_logs: Path) -> Iterator[ServiceProcess]:
    env = {"CHORUS_ROUTER_LIVE__MAX_SESSION_S": str(SESSION_S)}
    proc = start_secure_router(registry, security_logs, env)
    yield proc
    proc.stop()


async def _open(ws: object, heard: Heard) -> None:
    await receive_until(ws, heard, "session.created")  # type: ignore[arg-type]
    await send(ws, "session.update", session={"model": MODEL, "voice": "alloy"})  # type: ignore[arg-type]
    await receive_until(ws, heard, "session.updated")  # type: ignore[arg-type]


def test_an_answer_sent_a_word_a_message_within_the_burst_is_spoken(
    router: ServiceProcess,
) -> None:
    words = ("Sure, the train leaves at nine and takes about two hours. " * 4).split()
    assert len(words) + 3 <= BURST

    async def talk() -> Heard:
        heard = Heard()
        async with connect(live_url(router.url)) as ws:
            await _open(ws, heard)
            for word in words:
                await send(ws, "input_text.append", text=word + " ")
            await send(ws, "input_text.end")
            await receive_until(ws, heard, None)
        return heard

    heard = asyncio.run(talk())
    assert (heard.close_code, heard.close_reason) == (1000, "input ended")
    assert heard.of_type("speech.audio.done")
    assert len(heard.audio()) > 24_000 * 2  # over a second of speech


def test_a_flood_of_messages_is_closed_with_a_reason(router: ServiceProcess) -> None:
    async def flood() -> Heard:
        heard = Heard()
        async with connect(live_url(router.url)) as ws:
            await _open(ws, heard)
            listening = asyncio.create_task(receive_until(ws, heard, None))
            # The router may close the session before all of them are sent.
            with suppress(ConnectionClosed):
                for _ in range(BURST * 4):
                    await send(ws, "input_text.append", text="la ")
            await listening
        return heard

    heard = asyncio.run(flood())
    assert heard.close_code == 1008
    assert heard.close_reason == (
        f"over {MESSAGES_PER_S} messages a second (after a burst of {BURST})"
    )
    assert gauge(router.url, "tts_live_sessions") == 0


def test_a_session_past_its_length_is_closed_while_it_talks(short_router: ServiceProcess) -> None:
    async def talk() -> Heard:
        heard = Heard()
        async with connect(live_url(short_router.url)) as ws:
            await _open(ws, heard)
            listening = asyncio.create_task(receive_until(ws, heard, None))
            # A client that keeps talking is not idle; only the session's length ends it.
            with suppress(ConnectionClosed):
                while not listening.done():
                    await send(ws, "input_text.append", text="Hello there. ")
                    await asyncio.sleep(0.2)
            await listening
        return heard

    heard = asyncio.run(talk())
    assert heard.close_code == 1008
    assert heard.close_reason == f"session reached its {SESSION_S} s limit"
    assert heard.of_type("speech.audio.delta"), "the session spoke until its end"
    assert gauge(short_router.url, "tts_live_sessions") == 0
