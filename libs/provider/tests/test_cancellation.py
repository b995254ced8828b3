"""A synthesis stops when its client leaves, before or after the first byte.

The provider app runs in-process under uvicorn and is called over real HTTP; the engine
renders each piece until its cancel signal fires (or 10 s pass), the way onnxruntime's
terminate flag or a killed espeak-ng process ends a piece early.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
import uvicorn

from chorus_contracts import Capabilities, SynthesisRequest, TextChunking, VoiceInfo
from chorus_provider import Cancelled, CancelSignal, ProviderSettings, SentenceEngine
from chorus_provider.app import create_provider_app

RATE = 8000


class _SlowEngine(SentenceEngine):
    """A piece "Slow." takes 10 s unless cancelled; any other piece is quick."""

    def __init__(self) -> None:
        super().__init__(workers=1, chunking=TextChunking(max_chars=100, first_piece_max_words=0))
        self.pieces_started = 0
        self.cancelled_pieces = 0
        self.busy = threading.Event()

    async def load(self) -> None:
        return None

    def capabilities(self) -> Capabilities:
        return Capabilities(
            provider="slow",
            engine="slow",
            models=["slow"],
            voices=[VoiceInfo(id="v", name="v")],
            languages=["en"],
            sample_rate=RATE,
            max_text_length=1000,
            streaming=True,
        )

    def check(self, request: SynthesisRequest) -> None:
        return None

    def render(self, piece: str, request: SynthesisRequest, cancel: CancelSignal) -> bytes:
        self.busy.set()
        try:
            self.pieces_started += 1
            stop = threading.Event()
            forget = cancel.on_cancel(stop.set)
            try:
                stop.wait(10.0 if piece == "Slow." else 0.0)
            finally:
                forget()
            if cancel.is_set:
                self.cancelled_pieces += 1
                raise RuntimeError("aborted by the library")  # taken as Cancelled
            return bytes(2 * RATE // 10)
        finally:
            self.busy.clear()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@asynccontextmanager
async def _serve(engine: _SlowEngine) -> AsyncIterator[str]:
    settings = ProviderSettings(name="slow", port=_free_port(), max_concurrency=1)
    app = create_provider_app(engine, settings)
    server = uvicorn.Server(
        # log_config=None: uvicorn must not reconfigure the process's loggers for later tests.
        uvicorn.Config(app, host="127.0.0.1", port=settings.port, log_config=None)
    )
    task = asyncio.create_task(server.serve())
    url = f"http://127.0.0.1:{settings.port}"
    async with httpx.AsyncClient(base_url=url) as client:
        while True:
            try:
                if (await client.get("/readyz")).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.05)
    try:
        yield url
    finally:
        server.should_exit = True
        await task


async def _in_flight(client: httpx.AsyncClient) -> float:
    text = (await client.get("/metrics")).text
    line = next(x for x in text.splitlines() if x.startswith("chorus_provider_in_flight_requests"))
    return float(line.split()[-1])


async def _idle_within(client: httpx.AsyncClient, engine: _SlowEngine, bound_s: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < bound_s:
        if not engine.busy.is_set() and await _in_flight(client) == 0:
            return time.monotonic() - started
        await asyncio.sleep(0.02)
    raise AssertionError(f"engine still busy {bound_s}s after the client left")


async def test_leaving_before_the_first_byte_frees_the_engine() -> None:
    engine = _SlowEngine()
    async with _serve(engine) as url, httpx.AsyncClient(base_url=url) as client:
        body = {"text": "Slow. Slow.", "voice": "v"}
        request = asyncio.create_task(client.post("/v1/synthesize", json=body))
        assert await asyncio.to_thread(engine.busy.wait, 5.0)
        request.cancel()  # httpx closes the connection under a cancelled request
        await _idle_within(client, engine, bound_s=2.0)
        served = await client.post("/v1/synthesize", json={"text": "Quick.", "voice": "v"})
        assert served.status_code == 200
    assert engine.pieces_started == 2
    assert engine.cancelled_pieces == 1


async def test_leaving_mid_stream_stops_the_next_piece_inside() -> None:
    engine = _SlowEngine()
    async with _serve(engine) as url, httpx.AsyncClient(base_url=url) as client:
        body = {"text": "Quick. Slow. Slow.", "voice": "v"}
        async with client.stream("POST", "/v1/synthesize", json=body) as response:
            assert response.status_code == 200
            await anext(response.aiter_raw())
            assert await asyncio.to_thread(engine.busy.wait, 5.0)
        await _idle_within(client, engine, bound_s=2.0)
        metrics = (await client.get("/metrics")).text
    assert engine.cancelled_pieces == 1
    assert 'chorus_provider_requests_total{outcome="cancelled",provider="slow"} 1.0' in metrics


def test_hooks_run_once_and_late_hooks_run_at_once() -> None:
    signal = CancelSignal()
    calls: list[str] = []
    signal.on_cancel(lambda: calls.append("early"))
    forget = signal.on_cancel(lambda: calls.append("forgotten"))
    forget()
    signal.set()
    signal.set()
    signal.on_cancel(lambda: calls.append("late"))
    assert calls == ["early", "late"]
    with pytest.raises(Cancelled):
        signal.raise_if_set()
