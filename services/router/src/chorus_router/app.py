"""The router app: handlers, error mapping, and the background work of a live registry."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

import httpx
from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy import Engine

from chorus_contracts.drain import install_drain
from chorus_contracts.responses import install_error_handlers
from chorus_router.api import (
    audit,
    captioned,
    catalog,
    files,
    health,
    jobs,
    keys,
    lexicons,
    live,
    models,
    playground,
    speech,
    stream_input,
    text,
    voices,
)
from chorus_router.api.body_limit import BodyLimit
from chorus_router.api.openapi import document_errors
from chorus_router.api.services import RouterServices
from chorus_router.artifacts import StoredAudio, open_stored_audio
from chorus_router.artifacts import sweep_forever as sweep_stored_audio
from chorus_router.audit import AuditStore, AuditTrail
from chorus_router.audit.retention import sweep_forever
from chorus_router.jobs.gauges import JobGauges
from chorus_router.jobs.queue import JobQueue
from chorus_router.jobs.records import JobStore
from chorus_router.jobs.rendering import JobRenderer
from chorus_router.jobs.service import Jobs
from chorus_router.lexicons.store import LexiconStore
from chorus_router.metrics import RouterMetrics
from chorus_router.readiness import Readiness
from chorus_router.routing.health_sync import RedisHealthSync
from chorus_router.routing.kube_source import KubernetesRegistrySource
from chorus_router.routing.pool import ProviderPool
from chorus_router.routing.registry import FileRegistrySource, RegistrySource
from chorus_router.security import install_security
from chorus_router.security.keys import KeyStore
from chorus_router.settings import RouterSettings
from chorus_router.speech.encoding import EncodingPool
from chorus_router.speech.live import SessionSlots
from chorus_router.speech.policy import Limits, SpeechRouter
from chorus_router.speech.upstream import provider_client
from chorus_router.speech.waking import ColdStartBounds
from chorus_router.storage.migrations import migrate
from chorus_router.voices.library import VoiceLibrary
from chorus_telemetry import (
    FASTAPI_TELEMETRY,
    instrument_app,
    instrument_client,
    shutdown_tracing,
)


def registry_source(settings: RouterSettings) -> RegistrySource:
    if settings.registry_source == "kubernetes":
        token = settings.kubernetes_token
        return KubernetesRegistrySource(
            settings.kubernetes_namespace,
            api_url=settings.kubernetes_api_url,
            token=token.get_secret_value() if token else None,
        )
    return FileRegistrySource(settings.registry_file, settings.registry_reload_interval_s)


def _health_sync(settings: RouterSettings) -> RedisHealthSync | None:
    """With a Redis for rate limits, breakers and cool-downs are shared through it too."""
    url = settings.security.rate_limits.storage_url.get_secret_value()
    if not url.startswith(("redis://", "rediss://")):
        return None
    return RedisHealthSync.connect(url, time.time, settings.health_sync_interval_s)


def _jobs(
    settings: RouterSettings,
    database: Engine,
    router: SpeechRouter,
    stored: StoredAudio,
    metrics: RouterMetrics,
) -> Jobs | None:
    """Long-form jobs, when a queue is configured for them."""
    url = settings.jobs.queue_url
    if url is None:
        return None
    store = JobStore(database)
    metrics.registry.register(JobGauges(store))
    renderer = JobRenderer(store, router, stored.store, settings.jobs, metrics)
    queue = JobQueue(url.get_secret_value(), renderer.render, settings.jobs)
    return Jobs(
        settings.jobs,
        store,
        queue,
        renderer,
        router,
        stored.store,
        settings.artifacts.links.max_bytes_per_user,
    )


def create_app(settings: RouterSettings, tracing: TracerProvider | None = None) -> FastAPI:
    source = registry_source(settings)
    initial = source.initial()
    # One engine for voices and API keys; lazy, so nothing connects before the lifespan.
    database = settings.open_database()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        client = provider_client(settings.provider_connect_timeout_s)
        instrument_client(client, tracing)
        # Readiness polls get a client of their own: a trace every poll would bury real ones.
        poll_client = httpx.AsyncClient(timeout=settings.provider_check_timeout_s)
        peers = _health_sync(settings)
        pool = ProviderPool(
            poll_client,
            settings.provider_poll_interval_s,
            settings.provider_check_timeout_s,
            peers=peers,
            balancing=settings.replica_balancing,
        )
        pool.update(initial)
        metrics = RouterMetrics(pool.all)
        limits = Limits(settings.fallback_max_attempts, settings.request_deadline_s)
        # A database that cannot be reached fails start-up.
        await asyncio.to_thread(migrate, database)
        library = VoiceLibrary.over(database, settings.voices)
        # A store that cannot be reached (an S3 bucket) fails start-up too.
        stored = await asyncio.to_thread(
            open_stored_audio, settings.artifacts, settings.data_dir, database, metrics
        )
        audit_store = AuditStore(database)
        registry_watch = asyncio.create_task(source.watch(pool.update), name="registry-watch")
        background = [
            asyncio.create_task(pool.poll_forever(), name="provider-poll"),
            registry_watch,
            asyncio.create_task(sweep_forever(audit_store, settings.audit), name="audit-sweep"),
            asyncio.create_task(
                sweep_stored_audio(stored, settings.artifacts.sweep_interval_s),
                name="artifact-sweep",
            ),
        ]
        if peers is not None:
            peers.follow(pool.healths)
            background.append(asyncio.create_task(peers.run_forever(), name="health-sync"))
        encoding = EncodingPool(settings.encode_workers)
        cold_start = ColdStartBounds(settings.cold_start_wait_s, settings.cold_start_max_waiting)
        speech_router = SpeechRouter(pool, client, limits, metrics, cold_start=cold_start)
        job_service = _jobs(settings, database, speech_router, stored, metrics)
        if job_service is not None:
            # A queue that cannot be reached fails start-up, as the database does.
            await job_service.queue.start()
        app.state.services = RouterServices(
            settings=settings,
            pool=pool,
            router=speech_router,
            metrics=metrics,
            voices=library,
            lexicons=LexiconStore(database, settings.lexicons),
            registry=source,
            audit=AuditTrail(audit_store),
            keys=KeyStore(database),
            artifacts=stored,
            readiness=Readiness(database, source, registry_watch),
            encoding=encoding,
            live_sessions=SessionSlots(
                settings.live.max_sessions,
                settings.live.max_sessions_per_key,
                metrics.live_sessions,
            ),
            jobs=job_service,
        )
        try:
            yield
        finally:
            if job_service is not None:
                # Jobs in progress go back to the queue for another replica (or this one,
                # restarted) to resume from their checkpoints.
                await job_service.queue.close()
            for task in background:
                task.cancel()
            for task in background:
                with suppress(asyncio.CancelledError):
                    await task
            await client.aclose()
            await poll_client.aclose()
            if peers is not None:
                await peers.close()
            encoding.close()
            await asyncio.to_thread(database.dispose)
            shutdown_tracing(tracing)

    app = FastAPI(
        title="Chorus",
        summary="OpenAI-compatible text-to-speech router",
        version="0.1.0",
        lifespan=lifespan,
        telemetry=FASTAPI_TELEMETRY,
    )
    install_error_handlers(app, "router")
    document_errors(app)
    for module in (
        speech,
        captioned,
        text,
        live,
        stream_input,
        models,
        catalog,
        health,
        keys,
        voices,
        jobs,
        lexicons,
        audit,
        files,
        playground,
    ):
        app.include_router(module.router)
    app.add_middleware(
        BodyLimit,
        max_bytes=settings.max_body_bytes,
        path_limits={
            **voices.upload_body_limits(settings.voices),
            **jobs.body_limits(settings.jobs),
            **lexicons.body_limits(settings.lexicons),
        },
    )
    # Inside the security middleware, so that refusals get its headers too.
    install_drain(app, "router", settings.shutdown_timeout_s)
    install_security(app, settings.security, database)
    # Last: its span is current in every middleware above.
    instrument_app(app, tracing)
    return app
