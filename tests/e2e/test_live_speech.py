"""Live speech over a WebSocket against the real router with real espeak-ng and Piper.

A plain `websockets` client plays a voice agent: it streams an LLM's answer a few
characters at a time and listens to the audio as it comes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from support.idleness import gauge, wait_idle
from support.live_client import Heard, connect, live_url, receive_until, send
from support.processes import wait_until
from support.stack import Stack, router_over
from support.transcribe import transcribe, word_error_rate

pytestmark = pytest.mark.e2e

ANSWER = (
    "Sure, I can help with that. The train leaves at nine in the morning, and the trip "
    "takes about two hours. Bring a coat, because it will be cold by the sea."
)
LONG_ANSWER = " ".join(
    f"Part {n} of the story goes on about the harbour, the ships and the keeper of the light."
    for n in range(1, 15)
)
MAX_BUFFERED = 1500
# Whisper on the first turn's audio (Piper, 31 words): measured 0.00 in 4 runs. A piece lost,
# repeated or out of order costs a clause or more (5 words, 0.16 and up).
MAX_WER = 0.15


@pytest.fixture(scope="module")
def stack(local_stack: Stack) -> Iterator[Stack]:
    """A router with a small live buffer in front of the local stack's providers."""
    env = {"CHORUS_ROUTER_LIVE__MAX_BUFFERED_CHARS": str(MAX_BUFFERED)}
    with router_over(local_stack, env) as stack:
        stack.wait_for_states({name: True for name in stack.providers})
        yield stack


async def _tokens(ws: object, text: str, size: int = 4, rate_hz: float = 20.0) -> None:
    for start in range(0, len(text), size):
        await send(ws, "input_text.append", text=text[start : start + size])  # type: ignore[arg-type]
        await asyncio.sleep(1 / rate_hz)


def _pcm_seconds(audio: bytes) -> float:
    return len(audio) / 2 / 24_000


def test_a_token_stream_is_spoken_in_order_while_it_is_written(stack: Stack) -> None:
    async def talk() -> Heard:
        heard = Heard()
        async with connect(live_url(stack.router.url)) as ws:
            await receive_until(ws, heard, "session.created")
            await send(ws, "session.update", session={"voice": "alloy", "model": "tts-1"})
            await receive_until(ws, heard, "session.updated")
            listening = asyncio.create_task(receive_until(ws, heard, None))
            await _tokens(ws, ANSWER)
            await send(ws, "input_text.flush")
            await _tokens(ws, "And that is all.")
            await send(ws, "input_text.end")
            await listening
        return heard

    heard = asyncio.run(talk())
    assert heard.close_code == 1000, heard.close_reason
    done = heard.of_type("speech.audio.done")
    assert [d["provider"] for d in done] == ["piper", "piper"]
    first_turn, second_turn = (d["turn_id"] for d in done)
    deltas = [e["turn_id"] for e in heard.of_type("speech.audio.delta")]
    # Every delta of the first turn before any of the second.
    assert deltas == sorted(deltas, key=[first_turn, second_turn].index)
    seconds = _pcm_seconds(heard.audio(first_turn))
    # About thirty words at a normal pace: 6 to 16 seconds.
    assert 6.0 < seconds < 16.0
    assert done[0]["usage"]["audio_seconds"] == pytest.approx(seconds, abs=0.05)
    assert done[0]["usage"]["characters"] >= len(ANSWER) - 5
    assert 0.5 < _pcm_seconds(heard.audio(second_turn)) < 3.0
    spoken = transcribe(heard.audio(first_turn), 24_000)
    assert word_error_rate(ANSWER, spoken) <= MAX_WER, spoken


def test_first_audio_comes_before_the_text_is_finished(stack: Stack) -> None:
    async def talk() -> bool:
        heard = Heard()
        async with connect(live_url(stack.router.url)) as ws:
            await receive_until(ws, heard, "session.created")
            first_audio = asyncio.create_task(receive_until(ws, heard, "speech.audio.delta"))
            await _tokens(ws, LONG_ANSWER[:400])
            heard_while_writing = first_audio.done()
            await send(ws, "input_text.clear")
            first_audio.cancel()
        return heard_while_writing

    # 400 characters take 5 s to write at 20 fragments a second; the first piece is a
    # few words, spoken long before.
    assert asyncio.run(talk()), "no audio until the text was finished"


def test_barge_in_stops_the_audio_and_the_engine(stack: Stack) -> None:
    piper = stack.providers["piper"]

    async def talk() -> tuple[Heard, str, float]:
        heard = Heard()
        async with connect(live_url(stack.router.url)) as ws:
            await receive_until(ws, heard, "session.created")
            await send(ws, "input_text.append", text=LONG_ANSWER)
            await send(ws, "input_text.flush")
            interrupted = (await receive_until(ws, heard, "speech.audio.delta"))["turn_id"]
            await send(ws, "input_text.clear")
            await receive_until(ws, heard, "input_text.cleared")
            freed_s = await asyncio.to_thread(wait_idle, piper.url, piper.pid, 5.0)
            after = len(heard.events)
            await send(ws, "input_text.append", text="Okay, stopping.")
            await send(ws, "input_text.end")
            await receive_until(ws, heard, None)
        return Heard(heard.events[after:], heard.close_code), interrupted, freed_s

    later, interrupted, freed_s = asyncio.run(talk())
    assert freed_s < 5.0
    turns = {e["turn_id"] for e in later.of_type("speech.audio.delta")}
    assert turns, "no audio after the clear"
    assert interrupted not in turns, "audio of the interrupted turn after the clear"
    assert len(later.of_type("speech.audio.done")) == 1


def test_a_client_that_leaves_frees_the_engine(stack: Stack) -> None:
    piper = stack.providers["piper"]

    async def leave() -> None:
        heard = Heard()
        async with connect(live_url(stack.router.url)) as ws:
            await send(ws, "input_text.append", text=LONG_ANSWER)
            await send(ws, "input_text.flush")
            await receive_until(ws, heard, "speech.audio.delta")

    asyncio.run(leave())
    assert wait_idle(piper.url, piper.pid, 5.0) < 5.0


def test_an_unknown_event_is_answered_and_the_session_goes_on(stack: Stack) -> None:
    async def talk() -> Heard:
        heard = Heard()
        async with connect(live_url(stack.router.url)) as ws:
            await receive_until(ws, heard, "session.created")
            await send(ws, "input_text.shout", text="hi")
            await receive_until(ws, heard, "error")
            await send(ws, "session.update", session={"response_format": "mp3"})
            await receive_until(ws, heard, "session.updated")
        return heard

    heard = asyncio.run(talk())
    [error] = [e["error"] for e in heard.of_type("error")]
    assert error["type"] == "invalid_request_error"
    assert "input_text.shout" in error["message"]
    assert heard.of_type("session.updated")[0]["session"]["response_format"] == "mp3"


def test_malformed_json_is_closed_with_a_reason(stack: Stack) -> None:
    async def talk() -> Heard:
        heard = Heard()
        async with connect(live_url(stack.router.url)) as ws:
            await receive_until(ws, heard, "session.created")
            await ws.send("{not json")
            await receive_until(ws, heard, None)
        return heard

    heard = asyncio.run(talk())
    assert heard.close_code == 1007
    assert heard.close_reason is not None
    assert heard.close_reason.startswith("the message is not valid JSON")
    assert not heard.of_type("error")
    assert wait_until(lambda: gauge(stack.router.url, "tts_live_sessions") == 0, timeout_s=5)


def test_more_text_than_the_buffer_holds_is_closed_with_a_reason(stack: Stack) -> None:
    async def talk() -> Heard:
        heard = Heard()
        async with connect(live_url(stack.router.url)) as ws:
            await send(ws, "input_text.append", text=(LONG_ANSWER * 2)[: MAX_BUFFERED + 200])
            await receive_until(ws, heard, None)
        return heard

    heard = asyncio.run(talk())
    assert heard.close_code == 1009
    assert f"over {MAX_BUFFERED} characters buffered" in heard.close_reason
