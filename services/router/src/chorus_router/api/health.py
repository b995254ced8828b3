"""Liveness, readiness, per-provider health, and Prometheus metrics of the router."""

from __future__ import annotations

import asyncio
from typing import Annotated, Literal

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel

from chorus_router.api.services import RouterServices, get_services
from chorus_router.identity import Scope
from chorus_router.routing.breakers import BreakerState
from chorus_router.routing.pool import ProviderHandle
from chorus_router.security import require

router = APIRouter()

Services = Annotated[RouterServices, Depends(get_services)]


class LastError(BaseModel):
    code: str
    message: str
    at: float


class ReplicaView(BaseModel):
    """One endpoint of a provider: what the router counts and what the replica reported."""

    url: str
    ready: bool
    breaker: Literal["closed", "half-open", "open"]
    in_flight: int
    queued: int | None
    max_concurrency: int | None
    real_time_factor: float | None


class ProviderHealthView(BaseModel):
    name: str
    enabled: bool
    ready: bool
    readiness_error: str | None
    breaker: Literal["closed", "half-open", "open"]
    consecutive_failures: int
    open_until: float | None
    retry_after_until: float | None
    last_error: LastError | None
    replicas: list[ReplicaView]


class HealthReport(BaseModel):
    status: Literal["ok", "degraded", "unavailable"]
    providers: list[ProviderHealthView]


def can_serve(handle: ProviderHandle) -> bool:
    closed = handle.health.state != BreakerState.OPEN and not handle.replicas.all_open()
    return handle.entry.enabled and handle.ready and closed


@router.get("/healthz")
async def healthz() -> JSONResponse:
    return JSONResponse({"status": "ok"})


@router.get("/readyz")
async def readyz(services: Services) -> JSONResponse:
    """Ready while the router's own dependencies are; which providers can serve is reported
    alongside but never makes the router unready (see readiness.py)."""
    checks = await services.readiness.problems()
    source = services.registry.status()
    ok = all(state == "ok" for state in checks.values())
    handles = services.pool.enabled()
    body = {
        "status": "ready" if ok else "not ready",
        "checks": checks,
        "ready": [h.name for h in handles if can_serve(h)],
        "not_ready": {h.name: h.last_error or "circuit open" for h in handles if not can_serve(h)},
        # Say why the list is empty when the API server has not answered yet.
        "registry": {"source": source.source, "synced": source.synced, "error": source.error},
    }
    return JSONResponse(body, status_code=200 if ok else 503)


@router.get("/api/v1/audio/health", dependencies=[Depends(require(Scope.ADMIN))])
async def provider_health(services: Services) -> HealthReport:
    handles = services.pool.all()
    serving = [h for h in handles if can_serve(h)]
    status: Literal["ok", "degraded", "unavailable"] = (
        "unavailable" if not serving else "ok" if len(serving) == len(handles) else "degraded"
    )
    return HealthReport(status=status, providers=[_health(h) for h in handles])


_BREAKER_STATES: dict[BreakerState, Literal["closed", "half-open", "open"]] = {
    BreakerState.CLOSED: "closed",
    BreakerState.HALF_OPEN: "half-open",
    BreakerState.OPEN: "open",
}


def _health(handle: ProviderHandle) -> ProviderHealthView:
    health = handle.health
    failure = health.last_failure
    return ProviderHealthView(
        name=handle.name,
        enabled=handle.entry.enabled,
        ready=handle.ready,
        readiness_error=handle.last_error,
        breaker=_BREAKER_STATES[health.state],
        consecutive_failures=health.failures,
        open_until=health.open_until(),
        retry_after_until=health.cooldown_until if health.cooling_down() else None,
        last_error=LastError(code=failure.code, message=failure.message, at=failure.at)
        if failure
        else None,
        replicas=[
            ReplicaView(
                url=r.url,
                ready=r.ready,
                breaker=_BREAKER_STATES[r.breaker.state],
                in_flight=r.in_flight,
                queued=r.load.queued if r.load else None,
                max_concurrency=r.load.max_concurrency if r.load else None,
                real_time_factor=r.load.real_time_factor if r.load else None,
            )
            for r in handle.replicas.all()
        ],
    )


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text"}},
)
async def metrics(services: Services) -> Response:
    # In a thread: the jobs' gauges read the database.
    body = await asyncio.to_thread(generate_latest, services.metrics.registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
