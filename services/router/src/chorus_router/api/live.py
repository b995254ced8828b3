"""`/v1/audio/speech/live`: the live speech WebSocket, its limits and its close codes.

The session itself (speech/live) knows nothing of sockets; this module reads messages,
enforces the limits in `settings.live`, and closes with a code and a reason past them. A
`Dialect` says how one wire protocol's messages become session events and the session's
events become its messages: OpenAI-style events here, ElevenLabs' `stream-input` beside.
When the router drains (SIGTERM), a session finishes the turn in progress, refuses new ones
with an `error` event, and closes with 1001 (going away).
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from contextlib import suppress
from typing import Any, Protocol

from fastapi import APIRouter, WebSocket
from starlette.types import Message
from starlette.websockets import WebSocketDisconnect, WebSocketState

from chorus_contracts import ChorusError
from chorus_contracts.drain import GOING_AWAY, Drain
from chorus_router.api.services import RouterServices
from chorus_router.api.voice_references import CUSTOM_VOICE_PREFIX, stored_reference
from chorus_router.identity import LOCAL_USER, Principal, Scope
from chorus_router.security import RouteClass
from chorus_router.security.auth import accepted_subprotocol
from chorus_router.security.ratelimit import RateLimits
from chorus_router.speech.live import (
    Account,
    BufferFull,
    ClientEvent,
    LiveSession,
    LiveSettings,
    MessageRate,
    NotJson,
    Send,
    SessionsFull,
    SpeechParts,
    error_event,
    parse_event,
)

router = APIRouter()
log = logging.getLogger("chorus.router.live")

# RFC 6455 close codes.
NORMAL, NOT_JSON, POLICY, TOO_BIG, TRY_LATER = 1000, 1007, 1008, 1009, 1013
Closing = tuple[int, str]
INPUT_ENDED: Closing = (NORMAL, "input ended")
# What goes on the wire: a JSON message or a binary frame.
Wire = dict[str, Any] | bytes


class Dialect(Protocol):
    """One wire protocol over a live session."""

    def read(self, message: str | bytes) -> list[ClientEvent]:
        """The session events of one client message (InvalidRequest if it has none)."""
        ...

    def write(self, event: Wire) -> Wire | None:
        """The message for one session event, or None when the protocol has none."""
        ...

    async def open(self, session: LiveSession) -> None:
        """Settings from the handshake, before the first message (a ChorusError refuses)."""
        ...

    def last(self) -> Wire | None:
        """What the client is told once its input has ended, before the close."""
        ...


class _OpenAIEvents:
    """`/v1/audio/speech/live`: the session's own events, named in OpenAI's style."""

    def read(self, message: str | bytes) -> list[ClientEvent]:
        return [parse_event(message)]

    def write(self, event: Wire) -> Wire | None:
        return event

    async def open(self, session: LiveSession) -> None:
        return None

    def last(self) -> Wire | None:
        return None


@router.websocket("/v1/audio/speech/live")
async def live_speech(websocket: WebSocket) -> None:
    await serve_live(websocket, _OpenAIEvents())


async def serve_live(websocket: WebSocket, dialect: Dialect) -> None:
    """A live session in `dialect`: admission (scope, slots), the session, and its close."""
    services: RouterServices = websocket.app.state.services
    await websocket.accept(subprotocol=accepted_subprotocol(websocket.scope))
    state = websocket.scope.get("state", {})
    principal = state.get("principal", LOCAL_USER)
    if not isinstance(principal, Principal) or not principal.has(Scope.SPEECH):
        await _close(websocket, POLICY, f"missing scope: {Scope.SPEECH}")
        return
    # The name the caller's limits are counted under; None with authentication off.
    caller: str | None = state.get("rate_limit_key")
    slots = services.live_sessions
    try:
        slots.take(caller)
    except SessionsFull as exc:
        await _close(websocket, TRY_LATER, exc.message)
        return
    try:
        account = _account(services, principal, caller, websocket.app.state)
        closing = await _serve(websocket, services, account, dialect)
    finally:
        slots.give_back(caller)
    if closing is not None:
        await _close(websocket, *closing)


def _account(
    services: RouterServices, principal: Principal, caller: str | None, app_state: Any
) -> Account:
    """The caller's custom voices, and its rate limits counted per turn as HTTP speech counts
    them per request."""
    limits: RateLimits | None = getattr(app_state, "rate_limits", None)
    session_id = uuid.uuid4().hex

    async def stored_voice(voice: str) -> str | None:
        if not voice.startswith(CUSTOM_VOICE_PREFIX):
            return None
        return await stored_reference(services, principal.user_id, voice, session_id)

    async def charge(characters: int, new_turn: bool) -> None:
        if limits is None or caller is None:
            return
        if new_turn:
            await limits.consume(RouteClass.SYNTHESIS, caller, characters)
        else:
            await limits.consume_characters(caller, characters)

    return Account(stored_voice, charge)


async def _serve(
    websocket: WebSocket, services: RouterServices, account: Account, dialect: Dialect
) -> Closing | None:
    lock = asyncio.Lock()

    async def put(wire: Wire | None) -> None:
        if wire is None:
            return
        async with lock:
            if isinstance(wire, bytes):
                await websocket.send_bytes(wire)
            else:
                await websocket.send_text(json.dumps(wire))

    async def send(event: Wire) -> None:
        await put(dialect.write(event))

    parts = SpeechParts(services.router, services.metrics, services.encoding)
    settings = services.settings.live
    session = LiveSession(parts, account, send, settings.max_buffered_chars)
    drain: Drain = websocket.app.state.drain
    try:
        await send({"type": "session.created", "session": session.config.model_dump()})
        try:
            await dialect.open(session)
        except ChorusError as exc:
            await send(error_event(exc))
            return POLICY, exc.message
        closing = await _converse(websocket, session, settings, send, drain, dialect)
        if closing == INPUT_ENDED:
            await put(dialect.last())
        return closing
    finally:
        # However the session ends, every provider stream it holds is closed now.
        await session.close()


async def _converse(
    websocket: WebSocket,
    session: LiveSession,
    settings: LiveSettings,
    send: Send,
    drain: Drain,
    dialect: Dialect,
) -> Closing | None:
    """Messages until the session ends: a close code and reason, or None if the client left."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + settings.max_session_s
    quiet_since = loop.time()
    rate = MessageRate(settings.max_messages_per_s, settings.message_burst, loop.time)
    receiving: asyncio.Future[Message] | None = None
    draining = asyncio.ensure_future(drain.begun())
    finished = asyncio.ensure_future(session.finished())
    try:
        while True:
            now = loop.time()
            if now >= deadline:
                return POLICY, f"session reached its {settings.max_session_s:g} s limit"
            wait = settings.flush_after_s if session.has_text else settings.idle_timeout_s
            receiving = receiving or asyncio.ensure_future(websocket.receive())
            wakers: set[asyncio.Future[Any]] = {receiving, finished}
            if not session.ending:
                wakers.add(draining)
            done, _ = await asyncio.wait(
                wakers, timeout=min(wait, deadline - now), return_when=asyncio.FIRST_COMPLETED
            )
            if finished in done:
                # Only a drain finishes a session here (`input_text.end` returns below).
                return GOING_AWAY, drain.reason
            if draining in done:
                session.drain()
                continue
            if receiving not in done:
                if session.has_text:
                    session.flush()
                elif session.speaking:
                    quiet_since = loop.time()
                elif loop.time() - quiet_since >= settings.idle_timeout_s:
                    return POLICY, f"idle for {settings.idle_timeout_s:g} s"
                continue
            message, receiving = receiving.result(), None
            quiet_since = loop.time()
            if drain.draining and not session.ending:
                # The signal came before the loop announced it (`begun` wakes on a later
                # tick): a message read after it must already find new turns refused.
                session.drain()
            if message["type"] == "websocket.disconnect":
                return None
            raw = message.get("text") or message.get("bytes") or ""
            if len(raw) > settings.max_message_bytes:
                return TOO_BIG, f"message over {settings.max_message_bytes} bytes"
            if not rate.admit():
                return POLICY, (
                    f"over {settings.max_messages_per_s:g} messages a second "
                    f"(after a burst of {settings.message_burst})"
                )
            try:
                for event in dialect.read(raw):
                    if await session.handle(event):
                        return INPUT_ENDED
            except BufferFull:
                return TOO_BIG, f"over {settings.max_buffered_chars} characters buffered"
            except NotJson as exc:
                return NOT_JSON, exc.message
            except ChorusError as exc:
                # A message that could not be acted on: the session goes on.
                await send(error_event(exc))
    finally:
        for waiting in (receiving, draining, finished):
            if waiting is not None:
                waiting.cancel()


async def _close(websocket: WebSocket, code: int, reason: str) -> None:
    # A close frame's reason holds at most 123 bytes.
    if websocket.application_state is WebSocketState.CONNECTED:
        with suppress(RuntimeError, OSError, WebSocketDisconnect):
            await websocket.close(code, reason.encode()[:123].decode(errors="ignore"))
