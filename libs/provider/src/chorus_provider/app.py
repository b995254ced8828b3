"""The one app factory: any Engine becomes a provider service speaking contract v1."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from chorus_contracts import (
    Capabilities,
    InvalidRequest,
    ProviderCannotServe,
    ReplicaLoad,
    ServiceUnavailable,
    SynthesisRequest,
)
from chorus_contracts.drain import install_drain
from chorus_contracts.responses import install_error_handlers
from chorus_provider.admission import Admission
from chorus_provider.engine import Engine, SentenceEngine
from chorus_provider.metrics import ProviderMetrics
from chorus_provider.settings import ProviderSettings
from chorus_provider.synthesis import SynthesisResponse
from chorus_telemetry import FASTAPI_TELEMETRY, instrument_app, shutdown_tracing

log = logging.getLogger("chorus.provider")


class _EngineState:
    """Whether the engine has loaded, and why not if it failed."""

    def __init__(self) -> None:
        self.ready = False
        self.failure: str | None = None


def create_provider_app(
    engine: Engine, settings: ProviderSettings, tracing: TracerProvider | None = None
) -> FastAPI:
    """Build the provider HTTP service for `engine`; the engine loads in the background."""
    state = _EngineState()
    metrics = ProviderMetrics(settings.name)
    admission = Admission(settings.max_concurrency, settings.max_queue, settings.queue_timeout_s)
    if isinstance(engine, SentenceEngine):
        engine.on_piece = metrics.piece_chars.observe
    metrics.concurrency_limit.set(settings.max_concurrency)
    metrics.queue_limit.set(settings.max_queue)

    async def load_engine() -> None:
        started = time.perf_counter()
        try:
            await engine.load()
        except Exception as exc:
            state.failure = f"engine failed to load: {exc}"
            log.exception("engine %s failed to load", settings.name)
            return
        metrics.load_seconds.set(time.perf_counter() - started)
        metrics.ready.set(1)
        state.ready = True
        log.info("engine %s ready in %.2fs", settings.name, time.perf_counter() - started)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        loading = asyncio.create_task(load_engine())
        yield
        loading.cancel()
        with suppress(asyncio.CancelledError):
            await loading
        await engine.close()
        shutdown_tracing(tracing)

    app = FastAPI(
        title=f"Chorus provider: {settings.name}",
        lifespan=lifespan,
        telemetry=FASTAPI_TELEMETRY,
    )
    install_drain(app, f"provider {settings.name}", settings.drain_timeout_s)
    install_error_handlers(app, f"provider {settings.name}")
    # Last: its span is current in the drain middleware too.
    instrument_app(app, tracing)

    def require_ready() -> None:
        if not state.ready:
            raise ServiceUnavailable(state.failure or "engine is loading", retry_after=2)

    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        if state.failure:
            return JSONResponse({"status": "failed", "reason": state.failure}, status_code=503)
        return JSONResponse({"status": "ok"})

    @app.get("/readyz")
    async def readyz() -> JSONResponse:
        if not state.ready:
            reason = state.failure or "engine is loading"
            return JSONResponse({"status": "not ready", "reason": reason}, status_code=503)
        detail = engine.readiness()
        # The router polls this and sends new streams to the replica with the least load.
        load = ReplicaLoad(
            in_flight=admission.running,
            queued=admission.waiting,
            max_concurrency=settings.max_concurrency,
            real_time_factor=admission.real_time_factor,
        )
        body = {"status": "ready", "load": load.model_dump()}
        return JSONResponse(body | ({"detail": detail} if detail else {}))

    @app.get("/metrics")
    async def prometheus() -> Response:
        metrics.queued.set(admission.waiting)
        metrics.in_flight.set(admission.running)
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/v1/capabilities")
    async def capabilities() -> Capabilities:
        require_ready()
        return engine.capabilities().model_copy(update={"chunking": engine.chunking})

    @app.post("/v1/synthesize")
    async def synthesize(body: SynthesisRequest) -> SynthesisResponse:
        require_ready()
        caps = engine.capabilities()
        if len(body.text) > caps.max_text_length:
            raise ProviderCannotServe(
                f"text is {len(body.text)} characters; this provider takes at most "
                f"{caps.max_text_length}",
                param="text",
            )
        metrics.text_chars.observe(len(body.text))
        if body.voice_reference is not None:
            metrics.voice_references.inc()
        if body.timestamps and caps.timestamps != "word":
            raise InvalidRequest(
                f"provider {caps.provider} has no word timestamps", param="timestamps"
            )
        return SynthesisResponse(engine, body, admission, metrics, caps.sample_rate)

    return app
