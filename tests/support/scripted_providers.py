"""Two real provider apps around scripted engines, in-process, for the router's unit tests.

Each app is the shared provider factory's (`create_provider_app`), so the router talks to
what every real provider serves; the engine behind it does what a test scripts. The apps
answer through `StreamingASGITransport`, and the clock is injected, so nothing sleeps.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI, Response

from chorus_audio import AudioFormat
from chorus_contracts import (
    BreakerPolicy,
    Capabilities,
    ChorusError,
    RetryPolicy,
    RoutingPolicy,
    SpeechRequest,
    SynthesisRequest,
    UpstreamError,
    VoiceInfo,
)
from chorus_provider import CancelSignal, Engine, ProviderSettings, create_provider_app
from chorus_router.metrics import RouterMetrics
from chorus_router.routing.breakers import BreakerState
from chorus_router.routing.pool import ProviderHandle, ProviderPool
from chorus_router.routing.registry import ProviderEntry
from chorus_router.speech.delivery import Delivery
from chorus_router.speech.encoding import EncodingPool
from chorus_router.speech.policy import FailurePolicy, Limits, SpeechRouter
from chorus_router.speech.upstream import ProviderStream

RESET_S = 10.0
# The router's output rate: PCM at it comes out of the encoder exactly as it went in.
SAMPLE_RATE = 24_000
# One engine chunk: 100 ms of one provider's own constant sample value.
CHUNK_SAMPLES = 2_400
# Chunks in a whole answer.
ANSWER_CHUNKS = 3

_Message = MutableMapping[str, Any]
ASGIApp = Callable[[_Message, Any, Any], Awaitable[None]]


class FakeClock:
    """Epoch seconds that move only when a test says so."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass(frozen=True)
class BreaksOff:
    """A scripted answer: `chunks` chunks of audio, then the engine fails."""

    chunks: int = 1


@dataclass(frozen=True)
class Hangs:
    """A scripted answer: no audio, ever; the engine waits until the request goes away."""


@dataclass(frozen=True)
class Late:
    """A scripted answer: no audio for `seconds` (as when queued behind others' requests),
    then a whole answer."""

    seconds: float


Step = ChorusError | BreaksOff | Hangs | Late


class ScriptedEngine(Engine):
    """Answers each request with the next scripted step, or with a whole answer once they
    run out. Its audio is its own constant sample value, so a test can tell who spoke."""

    def __init__(self, name: str, languages: list[str], sample: int) -> None:
        self.name = name
        self.languages = languages
        self.sample = sample
        self.script: list[Step] = []
        self.requests: list[SynthesisRequest] = []
        self.calls = 0
        self.hanging = asyncio.Event()

    def chunk(self) -> bytes:
        return struct.pack("<h", self.sample) * CHUNK_SAMPLES

    async def load(self) -> None:
        return None

    def capabilities(self) -> Capabilities:
        return Capabilities(
            provider=self.name,
            engine="scripted",
            models=["m"],
            voices=[VoiceInfo(id="v", name="v", language=self.languages[0])],
            languages=self.languages,
            sample_rate=SAMPLE_RATE,
            max_text_length=1000,
            streaming=True,
        )

    async def synthesize(
        self, request: SynthesisRequest, cancel: CancelSignal
    ) -> AsyncIterator[bytes]:
        self.calls += 1
        self.requests.append(request)
        step = self.script.pop(0) if self.script else None
        if isinstance(step, ChorusError):
            raise step
        if isinstance(step, Hangs):
            self.hanging.set()
            await asyncio.Event().wait()
        if isinstance(step, Late):
            await asyncio.sleep(step.seconds)
        for _ in range(step.chunks if isinstance(step, BreaksOff) else ANSWER_CHUNKS):
            yield self.chunk()
        if isinstance(step, BreaksOff):
            raise UpstreamError("the engine crashed mid-sentence")


class StreamingASGITransport(httpx.AsyncBaseTransport):
    """An ASGI app as a client sees it over a real connection, body chunks and aborts included.

    httpx.ASGITransport joins the whole body into one chunk and re-raises an app's exception
    from `send`, so a body that a server aborts mid-way (a provider whose engine fails after
    its first audio) never reaches the client as such. A real client reads the chunks sent
    so far and then gets httpx.RemoteProtocolError from the response stream, as here.
    """

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        sent: list[bytes] = []
        aborted = False

        async def app(scope: _Message, receive: Any, send: Any) -> None:
            nonlocal aborted
            started = ended = False

            async def watched(message: _Message) -> None:
                nonlocal started, ended
                started = started or message["type"] == "http.response.start"
                if message["type"] == "http.response.body":
                    if message.get("body"):
                        sent.append(message["body"])
                    ended = not message.get("more_body", False)
                await send(message)

            try:
                await self._app(scope, receive, watched)
            except Exception:
                if not started or ended:
                    raise
                aborted = True
                await send({"type": "http.response.body", "body": b"", "more_body": False})

        buffered = await httpx.ASGITransport(app=app).handle_async_request(request)
        body = _Body(sent, aborted)
        return httpx.Response(buffered.status_code, headers=buffered.headers, stream=body)


class _Body(httpx.AsyncByteStream):
    def __init__(self, chunks: list[bytes], aborted: bool) -> None:
        self._chunks = chunks
        self._aborted = aborted

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self._chunks:
            yield chunk
        if self._aborted:
            raise httpx.RemoteProtocolError("peer closed connection without sending complete body")


class _RawAnswers:
    """What a wrong URL or an auth proxy in front of a provider answers, when a test sets
    `app.state.raw`: not the contract. Plain ASGI, so the provider's own aborts pass as is."""

    def __init__(self, app: FastAPI, engine: ScriptedEngine) -> None:
        app.state.raw = None
        self._app = app
        self._engine = engine

    async def __call__(self, scope: _Message, receive: Any, send: Any) -> None:
        raw: Response | None = self._app.state.raw
        if raw is None or scope["path"] != "/v1/synthesize":
            await self._app(scope, receive, send)
            return
        self._engine.calls += 1
        await raw(scope, receive, send)


async def read_into(received: list[bytes], body: AsyncIterator[bytes]) -> None:
    """Read `body` into `received`, which keeps what came when reading breaks off."""
    async for data in body:
        received.append(data)


def speech_request(**fields: object) -> SpeechRequest:
    return SpeechRequest.model_validate({"model": "m", "voice": "v", "input": "Hi."} | fields)


@dataclass
class Routed:
    """The router's routing parts over the two providers `primary` and `fallback`."""

    router: SpeechRouter
    pool: ProviderPool
    engines: dict[str, ScriptedEngine]
    apps: dict[str, FastAPI]
    clock: FakeClock
    metrics: RouterMetrics
    client: httpx.AsyncClient

    async def speak(self, *, background: bool = False, **fields: object) -> str:
        """The provider that served the request, its stream read to the end."""
        policy = self.policy(background=background, **fields)
        stream = await policy.open()
        async for _ in stream.chunks():
            pass
        policy.ended(stream)
        return stream.provider

    def policy(
        self, notice: str | None = None, *, background: bool = False, **fields: object
    ) -> FailurePolicy:
        """A new request's failure policy; `notice` is spoken if its stream breaks off."""
        request = speech_request(**fields)
        return self.router.policy(self.router.plan(request), "req", notice, background=background)

    def delivery(
        self, policy: FailurePolicy, stream: ProviderStream, fmt: str = "pcm", **extra: Any
    ) -> Delivery:
        return Delivery(
            stream,
            policy=policy,
            metrics=self.metrics,
            encoding=EncodingPool(0),
            fmt=AudioFormat(fmt),
            model_label="m",
            request_id="req",
            started=0.0,
            text_fields={},
            **extra,
        )

    def handle(self, name: str) -> ProviderHandle:
        handle = self.pool.get(name)
        assert handle is not None
        return handle

    def first_byte_timeout(self, name: str, seconds: float) -> ProviderHandle:
        """Provider `name`'s handle, its first-byte timeout set to `seconds`."""
        handle = self.handle(name)
        routing = handle.entry.routing.model_copy(update={"first_byte_timeout_s": seconds})
        handle.entry = handle.entry.model_copy(update={"routing": routing})
        return handle

    def state(self, name: str) -> BreakerState:
        return self.handle(name).health.state

    def count(self, metric: str, **labels: str) -> float:
        """A counter's value (0 when never incremented)."""
        return self.metrics.registry.get_sample_value(f"{metric}_total", labels) or 0.0


def _routing(priority: int, fallback: list[str]) -> RoutingPolicy:
    return RoutingPolicy(
        priority=priority,
        fallback=fallback,
        retry=RetryPolicy(attempts=2, backoff_initial_s=0, backoff_max_s=0, jitter_s=0),
        breaker=BreakerPolicy(fail_max=2, reset_timeout_s=RESET_S),
    )


@asynccontextmanager
async def routed_providers() -> AsyncIterator[Routed]:
    """`primary` (English, falls back to `fallback`) and `fallback` (English and French)."""
    clock = FakeClock()
    engines = {
        "primary": ScriptedEngine("primary", ["en-us"], sample=1),
        "fallback": ScriptedEngine("fallback", ["en-us", "fr-fr"], sample=2),
    }
    apps = {
        name: create_provider_app(engine, ProviderSettings(name=name))
        for name, engine in engines.items()
    }
    async with AsyncExitStack() as stack:
        for app in apps.values():
            await stack.enter_async_context(app.router.lifespan_context(app))
        mounts = {
            f"http://{name}": StreamingASGITransport(_RawAnswers(app, engines[name]))
            for name, app in apps.items()
        }
        client = await stack.enter_async_context(httpx.AsyncClient(mounts=mounts))
        pool = ProviderPool(client, poll_interval_s=1.0, check_timeout_s=1.0, clock=clock)
        pool.update(
            [
                ProviderEntry(
                    name="primary",
                    url="http://primary",
                    models=["m"],
                    routing=_routing(20, ["fallback"]),
                ),
                ProviderEntry(
                    name="fallback", url="http://fallback", models=["m"], routing=_routing(10, [])
                ),
            ]
        )
        for _ in range(50):
            await pool.refresh()
            if all(h.ready for h in pool.all()):
                break
            await asyncio.sleep(0.01)
        metrics = RouterMetrics(pool.all)
        router = SpeechRouter(pool, client, Limits(8, 30.0), metrics, clock=clock)
        yield Routed(router, pool, engines, apps, clock, metrics, client)
