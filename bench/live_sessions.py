"""What live sessions cost when they stop or wait: barge-in to silence and to an idle
engine, and the memory and HTTP first audio of a router holding many idle sessions."""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from contextlib import AsyncExitStack

from bench.live import VOICES
from bench.measure import stream_post
from bench.report import Table
from bench.texts import MEDIUM, SHORT
from support.idleness import gauge, wait_idle
from support.live_client import Heard, connect, live_url, receive_until, send
from support.processes import wait_until
from support.stack import Stack

# A player's window for "the engine is idle" (tests/support/idleness.py).
IDLE_BOUND_S = 5.0


async def _barge_in(stack: Stack, engine: str) -> tuple[float, float, float]:
    """Seconds from `input_text.clear` to the last audio frame, to `input_text.cleared`,
    and to the engine idle, mid-way through a paragraph's turn."""
    provider = stack.providers[engine]
    session = {"model": engine, "voice": VOICES[engine], "binary": True}
    async with connect(live_url(stack.router.url)) as ws:
        await send(ws, "session.update", session=session)
        await receive_until(ws, Heard(), "session.updated")
        await send(ws, "input_text.append", text=MEDIUM)
        await send(ws, "input_text.flush")
        while not isinstance(await ws.recv(), bytes):
            pass
        cleared = time.perf_counter()
        last_frame = cleared
        await send(ws, "input_text.clear")
        async for message in ws:
            if isinstance(message, bytes):
                last_frame = time.perf_counter()
            elif json.loads(message)["type"] == "input_text.cleared":
                break
        answered = time.perf_counter()
        idle = await asyncio.to_thread(wait_idle, provider.url, provider.pid, IDLE_BOUND_S)
        # wait_idle counts from its own call, which came `answered - cleared` after the clear.
        idle_s = answered - cleared + idle
        await send(ws, "input_text.end")
        await receive_until(ws, Heard(), None)
    return last_frame - cleared, answered - cleared, idle_s


def barge_in(stack: Stack, repeats: int = 5) -> Table:
    table = Table(
        "live-barge-in",
        f"Barge-in: `input_text.clear` mid-turn (a paragraph, pcm, median of {repeats}) to the "
        "last audio frame, to the `input_text.cleared` answer, and to the engine idle",
        "make bench BENCH=live",
        ["engine", "to last frame ms", "to cleared ms", "to engine idle ms"],
    )
    for engine in VOICES:
        runs = [asyncio.run(_barge_in(stack, engine)) for _ in range(repeats)]
        table.add(engine, *(statistics.median(r[i] for r in runs) * 1000 for i in range(3)))
    table.note(
        "Targets: last frame <= 150 ms, engine idle <= 1 s. Idle: the provider holds no "
        "request and its process burns under 20 % of a core over half a second."
    )
    return table


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise KeyError("VmRSS")


async def _open_sessions(held: AsyncExitStack, stack: Stack, count: int) -> None:
    # The sessions closed before have given back their slots (the router holds `count`).
    assert await asyncio.to_thread(
        wait_until, lambda: gauge(stack.router.url, "tts_live_sessions") == 0, 30.0
    ), "the router still holds sessions closed before"
    for _ in range(count):
        # No keep-alive pings: the sessions wait, as an agent between answers does.
        ws = await held.enter_async_context(connect(live_url(stack.router.url), ping_interval=None))
        await receive_until(ws, Heard(), "session.created")


async def _idle_rounds(
    stack: Stack, count: int, rounds: int, probes: int
) -> tuple[float, float, list[float], list[float]]:
    url = f"{stack.base_url}/audio/speech"
    body: dict[str, object] = {
        "model": "piper",
        "voice": VOICES["piper"],
        "response_format": "pcm",
        "input": SHORT,
    }

    async def first_audio() -> float:
        return (await asyncio.to_thread(stream_post, url, body, 48_000)).first_byte_s

    # Warm: the code paths of one session and one request, so the figures hold sessions only.
    async with AsyncExitStack() as held:
        await _open_sessions(held, stack, 1)
        await first_audio()
    none: list[float] = []
    held_open: list[float] = []
    before = after = 0.0
    for round_ in range(rounds):
        none += [await first_audio() for _ in range(probes)]
        async with AsyncExitStack() as held:
            if round_ == 0:
                before = _rss_mb(stack.router.pid)
            await _open_sessions(held, stack, count)
            if round_ == 0:
                after = _rss_mb(stack.router.pid)
            held_open += [await first_audio() for _ in range(probes)]
    return before, after, none, held_open


def idle_sessions(stack: Stack, count: int = 200, rounds: int = 3, probes: int = 8) -> Table:
    table = Table(
        "live-idle",
        f"{count} idle live sessions on one router: its memory, and HTTP speech first audio "
        f"(Piper, a short sentence, median of {rounds} x {probes}) with them open vs none",
        "make bench BENCH=live",
        [
            "sessions",
            "RSS before MB",
            "RSS with MB",
            "added MB",
            "first audio none ms",
            "first audio with ms",
            "with/none",
        ],
    )
    before, after, none, held_open = asyncio.run(_idle_rounds(stack, count, rounds, probes))
    none_ms, with_ms = statistics.median(none) * 1000, statistics.median(held_open) * 1000
    table.add(count, before, after, after - before, none_ms, with_ms, f"{with_ms / none_ms:.2f}")
    table.note(
        "Targets: added <= 100 MB, with/none <= 1.10. Each round takes the probes with no "
        "session, then opens the sessions and takes them again; RSS is the router process's, "
        "in the first round, after one session and one request have warmed its code paths."
    )
    return table
