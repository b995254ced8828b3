"""Piper with two clients at once: Chorus (through the router, and its provider directly)
against local-tts-studio and the raw piper library, on the same voice files.

Each round runs every contender in turn, so load on the machine slows all alike: two clients
each speak the paragraph `REQUESTS` times, one request after another, and the figure is the
seconds of audio made per second of wall time. The median of the rounds is reported.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.measure import stream_post
from bench.peer import start_local_tts_studio
from bench.raw_engines import RawPiper
from bench.report import Table
from bench.texts import MEDIUM, words
from support.stack import Stack

CLIENTS = 2
REQUESTS = 2
ROUNDS = 3

Speak = Callable[[], float]  # one request; returns the seconds of audio it made


def two_clients(stack: Stack, logs: Path) -> Table:
    studio = start_local_tts_studio(logs)
    raw = RawPiper()
    try:
        contenders: dict[str, Speak] = {
            "chorus (router)": lambda: _post(
                f"{stack.base_url}/audio/speech",
                {"model": "piper", "voice": "joe", "input": MEDIUM, "response_format": "pcm"},
            ),
            "chorus provider": lambda: _post(
                f"{stack.providers['piper'].url}/v1/synthesize", {"text": MEDIUM, "voice": "joe"}
            ),
            "local-tts-studio": lambda: _post(
                f"{studio.url}/v1/audio/speech", {"input": MEDIUM, "response_format": "pcm"}
            ),
            "raw piper library": lambda: raw(MEDIUM)[0],
        }
        for speak in contenders.values():
            speak()  # warm: local-tts-studio loads its voice on the first request
        rates: dict[str, list[float]] = {name: [] for name in contenders}
        for _ in range(ROUNDS):
            for name, speak in contenders.items():
                rates[name].append(_realtime_factor(speak))
    finally:
        studio.stop()
    table = Table(
        "throughput",
        f"Piper, {CLIENTS} clients x {REQUESTS} requests of {words(MEDIUM)} words at once: "
        f"audio seconds per wall second (median of {ROUNDS} interleaved rounds; higher is "
        "faster)",
        "make bench BENCH=throughput",
        ["server", "x realtime", "vs local-tts-studio", "vs raw library"],
    )
    peer = statistics.median(rates["local-tts-studio"])
    library = statistics.median(rates["raw piper library"])
    for name, values in rates.items():
        rate = statistics.median(values)
        table.add(name, rate, f"{rate / peer:.2f}", f"{rate / library:.2f}")
    return table


def _post(url: str, body: dict[str, object]) -> float:
    # Chorus's router sends 24 kHz pcm; the providers and local-tts-studio name their rate.
    return stream_post(url, body, 48_000).audio_seconds


def _realtime_factor(speak: Speak) -> float:
    def client() -> float:
        return sum(speak() for _ in range(REQUESTS))

    started = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        audio = sum(pool.map(lambda _: client(), range(CLIENTS)))
    return audio / (time.perf_counter() - started)
