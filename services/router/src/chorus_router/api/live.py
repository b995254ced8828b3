"""`/v1/audio/speech/live`: the live speech WebSocket, its limits and its close codes.

The session itself (speech/live) knows nothing of sockets; this module reads messages,
enforces the limits in `settings.live`, and closes with a code and a reason past them.
"""

from __future__ import annotations

import asyncio
import json
import logging
from contextlib import suppress
from typing import Any

from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect, WebSocketState

from chorus_contracts import ChorusError
from chorus_router.api.services import RouterServices
from chorus_router.identity import LOCAL_USER, Principal, Scope
from chorus_router.speech.live import (
    BufferFull,
    LiveSession,
    LiveSettings,
    Send,
    SpeechParts,
    error_event,
    parse_event,
)

router = APIRouter()
log = logging.getLogger("chorus.router.live")

# RFC 6455 close codes.
NORMAL, POLICY, TOO_BIG, TRY_LATER = 1000, 1008, 1009, 1013
Closing = tuple[int, str]


@router.websocket("/v1/audio/speech/live")
async def live_speech(websocket: WebSocket) -> None:
    services: RouterServices = websocket.app.state.services
    await websocket.accept()
    principal = websocket.scope.get("state", {}).get("principal", LOCAL_USER)
    if not isinstance(principal, Principal) or not principal.has(Scope.SPEECH):
        await _close(websocket, POLICY, f"missing scope: {Scope.SPEECH}")
        return
    slots = services.live_sessions
    if not slots.take():
        await _close(websocket, TRY_LATER, f"this replica has {slots.limit} live sessions open")
        return
    try:
        closing = await _serve(websocket, services)
    finally:
        slots.give_back()
    if closing is not None:
        await _close(websocket, *closing)


async def _serve(websocket: WebSocket, services: RouterServices) -> Closing | None:
    lock = asyncio.Lock()

    async def send(event: dict[str, Any] | bytes) -> None:
        async with lock:
            if isinstance(event, bytes):
                await websocket.send_bytes(event)
            else:
                await websocket.send_text(json.dumps(event))

    parts = SpeechParts(services.router, services.metrics, services.encoding)
    settings = services.settings.live
    session = LiveSession(parts, send, settings.max_buffered_chars)
    try:
        await send({"type": "session.created", "session": session.config.model_dump()})
        return await _converse(websocket, session, settings, send)
    finally:
        # However the session ends, every provider stream it holds is closed now.
        await session.close()


async def _converse(
    websocket: WebSocket, session: LiveSession, settings: LiveSettings, send: Send
) -> Closing | None:
    """Messages until the session ends: a close code and reason, or None if the client left."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + settings.max_session_s
    quiet_since = loop.time()
    while True:
        now = loop.time()
        if now >= deadline:
            return POLICY, f"session reached its {settings.max_session_s:g} s limit"
        wait = settings.flush_after_s if session.has_text else settings.idle_timeout_s
        try:
            message = await asyncio.wait_for(websocket.receive(), min(wait, deadline - now))
        except TimeoutError:
            if session.has_text:
                session.flush()
            elif session.speaking:
                quiet_since = loop.time()
            elif loop.time() - quiet_since >= settings.idle_timeout_s:
                return POLICY, f"idle for {settings.idle_timeout_s:g} s"
            continue
        quiet_since = loop.time()
        if message["type"] == "websocket.disconnect":
            return None
        raw = message.get("text") or message.get("bytes") or ""
        if len(raw) > settings.max_message_bytes:
            return TOO_BIG, f"message over {settings.max_message_bytes} bytes"
        try:
            if await session.handle(parse_event(raw)):
                return NORMAL, "input ended"
        except BufferFull:
            return TOO_BIG, f"over {settings.max_buffered_chars} characters buffered"
        except ChorusError as exc:
            # A message that could not be acted on: the session goes on.
            await send(error_event(exc))


async def _close(websocket: WebSocket, code: int, reason: str) -> None:
    # A close frame's reason holds at most 123 bytes.
    if websocket.application_state is WebSocketState.CONNECTED:
        with suppress(RuntimeError, OSError, WebSocketDisconnect):
            await websocket.close(code, reason.encode()[:123].decode(errors="ignore"))
