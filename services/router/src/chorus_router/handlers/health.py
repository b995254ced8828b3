"""Liveness and readiness of the router itself."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from chorus_router.services import RouterServices, get_services

router = APIRouter()


@router.get("/healthz")
async def healthz() -> JSONResponse:
    return JSONResponse({"status": "ok"})


@router.get("/readyz")
async def readyz(services: Annotated[RouterServices, Depends(get_services)]) -> JSONResponse:
    """Ready while at least one enabled provider can serve."""
    ready = [h.name for h in services.pool.enabled() if h.ready]
    not_ready = {h.name: h.last_error for h in services.pool.enabled() if not h.ready}
    body = {"status": "ready" if ready else "not ready", "ready": ready, "not_ready": not_ready}
    return JSONResponse(body, status_code=200 if ready else 503)
