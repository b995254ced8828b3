"""A provider process killed in the middle of a live turn: that turn ends with an `error`
event and never goes on in a second voice; the session stays open, and its next turn is
spoken by the fallback provider, which `speech.audio.done` names."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from support.live_client import Heard, connect, live_url, receive_until, send
from support.stack import Stack, shipped_stack

pytestmark = pytest.mark.timeout(120)

ANSWER = " ".join(
    f"Part {n} of the answer goes on about the harbour, the ships and the keeper of the light."
    for n in range(1, 8)
)


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    with shipped_stack(("espeak", "piper"), tmp_path) as stack:
        yield stack


def test_a_provider_killed_mid_turn_ends_the_turn_and_the_next_falls_back(stack: Stack) -> None:
    piper = stack.providers["piper"]

    async def talk() -> tuple[Heard, str]:
        heard = Heard()
        async with connect(live_url(stack.router.url)) as ws:
            await send(ws, "session.update", session={"model": "tts-1", "voice": "alloy"})
            # Not flushed: the turn is surely in progress when its provider dies.
            await send(ws, "input_text.append", text=ANSWER)
            killed = (await receive_until(ws, heard, "speech.audio.delta"))["turn_id"]
            os.kill(piper.pid, signal.SIGKILL)
            await send(ws, "input_text.append", text=" And that is the end of it.")
            await send(ws, "input_text.flush")
            await receive_until(ws, heard, "error")
            await send(ws, "input_text.append", text="Are you still there?")
            await send(ws, "input_text.flush")
            await receive_until(ws, heard, "speech.audio.done")
        return heard, killed

    heard, killed = asyncio.run(talk())
    [error] = heard.of_type("error")
    assert error["turn_id"] == killed
    assert error["error"]["type"] == "server_error"
    after_error = heard.events[heard.events.index(error) :]
    assert all(e.get("turn_id") != killed for e in after_error[1:]), "the dead turn went on"
    [done] = heard.of_type("speech.audio.done")
    assert done["turn_id"] != killed
    assert done["provider"] == "espeak"
    assert 0.5 < len(heard.audio(done["turn_id"])) / 2 / 24_000 < 4.0
    scrape = httpx.get(f"{stack.router.url}/metrics", timeout=5).text
    assert "tts_live_fallbacks_total 1.0" in scrape
    assert 'tts_live_turns_total{outcome="failed"} 1.0' in scrape
