"""Liveness, readiness, per-provider health, and Prometheus metrics of the router."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel

from chorus_router.breakers import BreakerState
from chorus_router.identity import Scope
from chorus_router.pool import ProviderHandle
from chorus_router.security import require
from chorus_router.services import RouterServices, get_services

router = APIRouter()

Services = Annotated[RouterServices, Depends(get_services)]


class LastError(BaseModel):
    code: str
    message: str
    at: float


class ProviderHealth(BaseModel):
    name: str
    enabled: bool
    ready: bool
    readiness_error: str | None
    breaker: Literal["closed", "half-open", "open"]
    consecutive_failures: int
    open_until: float | None
    retry_after_until: float | None
    last_error: LastError | None


class HealthReport(BaseModel):
    status: Literal["ok", "degraded", "unavailable"]
    providers: list[ProviderHealth]


def can_serve(handle: ProviderHandle) -> bool:
    return handle.entry.enabled and handle.ready and handle.breaker.state != BreakerState.OPEN


@router.get("/healthz")
async def healthz() -> JSONResponse:
    return JSONResponse({"status": "ok"})


@router.get("/readyz")
async def readyz(services: Services) -> JSONResponse:
    """Ready while the provider list has arrived and at least one enabled provider can serve."""
    handles = services.pool.enabled()
    ready = [h.name for h in handles if can_serve(h)]
    not_ready = {h.name: h.last_error or "circuit open" for h in handles if not can_serve(h)}
    source = services.registry.status()
    ok = bool(ready) and source.synced
    body = {
        "status": "ready" if ok else "not ready",
        "ready": ready,
        "not_ready": not_ready,
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


def _health(handle: ProviderHandle) -> ProviderHealth:
    failure = handle.last_failure
    breaker = handle.breaker
    names = {
        BreakerState.CLOSED: "closed",
        BreakerState.HALF_OPEN: "half-open",
        BreakerState.OPEN: "open",
    }
    return ProviderHealth(
        name=handle.name,
        enabled=handle.entry.enabled,
        ready=handle.ready,
        readiness_error=handle.last_error,
        breaker=names[breaker.state],
        consecutive_failures=breaker.failures,
        open_until=breaker.open_until(),
        retry_after_until=handle.cooldown_until if handle.cooling_down() else None,
        last_error=LastError(code=failure.code, message=failure.message, at=failure.at)
        if failure
        else None,
    )


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text"}},
)
async def metrics(services: Services) -> Response:
    return Response(generate_latest(services.metrics.registry), media_type=CONTENT_TYPE_LATEST)
