"""A voice agent's turns: over one live speech session, or one HTTP request per sentence.

Each turn is one sentence of an answer the agent has ready. Over the session the agent
sends it (`input_text.append`, `input_text.flush`) and waits for the first audio delta;
the other way it POSTs the sentence and waits for the first byte, as a client of the
OpenAI SDK that cuts its text into sentences would. The two alternate, turn by turn, on the
same router and providers; the ratio is what to read.
"""

from __future__ import annotations

import asyncio
import statistics
import time

from bench.measure import percentile, stream_post
from bench.report import Table
from support.live_client import Heard, connect, live_url, receive_until, send
from support.stack import Stack

TURNS = (
    "Sure, I can help with that.",
    "The train leaves at nine in the morning, and the trip takes about two hours.",
    "Bring a coat, because it will be cold by the sea.",
)
VOICES = {"espeak": "en-us", "piper": "alloy"}


async def _turns(stack: Stack, engine: str, repeats: int) -> tuple[list[float], list[float]]:
    """First-audio seconds of each turn: over the session, and per HTTP request."""
    live: list[float] = []
    http: list[float] = []
    url = f"{stack.base_url}/audio/speech"
    body = {"model": engine, "voice": VOICES[engine], "response_format": "pcm"}
    heard = Heard()
    async with connect(live_url(stack.router.url)) as ws:
        await send(ws, "session.update", session={"model": engine, "voice": VOICES[engine]})
        await receive_until(ws, heard, "session.updated")
        for _ in range(repeats):
            for sentence in TURNS:
                started = time.perf_counter()
                await send(ws, "input_text.append", text=sentence)
                await send(ws, "input_text.flush")
                await receive_until(ws, heard, "speech.audio.delta")
                live.append(time.perf_counter() - started)
                await receive_until(ws, heard, "speech.audio.done")
                http.append(stream_post(url, {**body, "input": sentence}, 48_000).first_byte_s)
    return live, http


def flush_to_first_audio(stack: Stack, repeats: int = 5) -> Table:
    table = Table(
        "live",
        f"A voice agent's turns (one sentence each, {len(TURNS)} sentences x {repeats}): time "
        "from the flush to the first audio over a live session vs one HTTP request per "
        "sentence (pcm)",
        "make bench BENCH=live",
        [
            "engine",
            "turns",
            "live p50 ms",
            "HTTP p50 ms",
            "live p90 ms",
            "HTTP p90 ms",
            "live/HTTP",
        ],
    )
    for engine in VOICES:
        live, http = asyncio.run(_turns(stack, engine, repeats))
        live_p50, http_p50 = statistics.median(live) * 1000, statistics.median(http) * 1000
        table.add(
            engine,
            len(live),
            live_p50,
            http_p50,
            percentile(live, 90) * 1000,
            percentile(http, 90) * 1000,
            f"{live_p50 / http_p50:.2f}",
        )
    table.note(
        "Turns alternate (a live turn, then the same sentence over HTTP) on one router; "
        "the session is opened once per engine, as an agent holds one per conversation."
    )
    return table
