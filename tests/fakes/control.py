"""What every fake shares: recorded requests, queued faults, and paced streaming.

A test queues faults with `POST /_fake/faults`; each vendor request takes the next one:
`status` answers with the vendor's error for that status (with `Retry-After` when given),
`stall_s` waits before answering, `chunk_delay_s` streams slowly. A fault with a `path` is
taken only by a request for that path; the others pass it by.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Any

import uvicorn
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

ErrorBody = Callable[[int], dict[str, Any]]
CHUNK_BYTES = 4801  # odd on purpose: clients must not split samples across chunks


class Fault(BaseModel):
    status: int | None = Field(default=None, ge=400, le=599)
    retry_after: int | None = Field(default=None, ge=0)
    stall_s: float = Field(default=0.0, ge=0)
    chunk_delay_s: float | None = Field(default=None, ge=0)
    count: int = Field(default=1, ge=1)
    path: str | None = None


class FakeControl:
    """State of one fake process, and the `/_fake` endpoints that steer it."""

    def __init__(self, error_body: ErrorBody, on_reset: Callable[[], None] | None = None) -> None:
        self._error_body = error_body
        # What else a vendor's fake keeps (voices it was asked to make) is cleared with the rest.
        self._on_reset = on_reset
        self._faults: deque[Fault] = deque()
        self.requests: list[dict[str, Any]] = []
        self.open_streams = 0

    def router(self) -> APIRouter:
        router = APIRouter(prefix="/_fake")

        @router.get("/health")
        async def health() -> dict[str, str]:
            return {"status": "ok"}

        @router.post("/faults")
        async def add_fault(fault: Fault) -> dict[str, int]:
            for _ in range(fault.count):
                self._faults.append(fault)
            return {"queued": len(self._faults)}

        @router.get("/requests")
        async def recorded() -> dict[str, Any]:
            return {"requests": self.requests, "open_streams": self.open_streams}

        @router.post("/reset")
        async def reset() -> dict[str, str]:
            self._faults.clear()
            self.requests.clear()
            if self._on_reset is not None:
                self._on_reset()
            return {"status": "reset"}

        return router

    async def admit(
        self, request: Request, authorized: bool, extra: dict[str, Any] | None = None
    ) -> tuple[Response | None, Fault]:
        """Record the call (with `extra`, what a JSON body cannot show), then apply the next
        fault; a returned response ends the call."""
        body = await request.body()
        self.requests.append(
            {
                "method": request.method,
                "path": request.url.path,
                "query": dict(request.query_params),
                "json": _json_or_none(body),
                "authorized": authorized,
                **(extra or {}),
            }
        )
        fault = self._take_fault(request.url.path)
        if fault.stall_s:
            await asyncio.sleep(fault.stall_s)
        if fault.status is None:
            return None, fault
        headers = {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
        return JSONResponse(self._error_body(fault.status), fault.status, headers=headers), fault

    def _take_fault(self, path: str) -> Fault:
        for fault in self._faults:
            if fault.path in (None, path):
                self._faults.remove(fault)
                return fault
        return Fault()

    async def stream(self, pcm: bytes, fault: Fault) -> AsyncIterator[bytes]:
        """PCM in odd-sized chunks, paced when the fault says so; counts open streams."""
        self.open_streams += 1
        try:
            for start in range(0, len(pcm), CHUNK_BYTES):
                yield pcm[start : start + CHUNK_BYTES]
                await asyncio.sleep(fault.chunk_delay_s or 0.0)
        finally:
            self.open_streams -= 1


def _json_or_none(body: bytes) -> Any:
    try:
        return json.loads(body) if body else None
    except ValueError:
        return None


def serve(create_app: Callable[[str], FastAPI], description: str) -> None:
    """`--port N --api-key K`: serve the fake on 127.0.0.1 until terminated."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--api-key", required=True)
    args = parser.parse_args()
    uvicorn.run(create_app(args.api_key), host="127.0.0.1", port=args.port, log_level="warning")
