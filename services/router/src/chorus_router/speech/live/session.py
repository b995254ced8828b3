"""A live speech session: text in as it is written, one turn's audio out, one voice per turn.

Two tasks make a pipeline. The opener plans each piece as an ordinary speech request and
opens its provider stream through the request's failure policy (fallbacks, breakers); the
sender plays the streams in order. The opener runs at most one stream ahead of the one
playing, so the next piece is synthesized while the last one plays. A turn's first piece
picks its provider; its later pieces go to that provider only, and a failure ends the turn
with an error, never with a second voice. Clearing or closing cancels both tasks and every
stream they hold, as a client that leaves an HTTP request does.
"""

from __future__ import annotations

import asyncio
import base64
import time
import uuid
from collections.abc import Awaitable, Callable
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from chorus_audio import AudioFormat
from chorus_contracts import ChorusError, InvalidRequest, ServiceUnavailable, WordTimestamp
from chorus_router.metrics import RouterMetrics
from chorus_router.speech.delivery import Delivery
from chorus_router.speech.encoding import EncodingPool
from chorus_router.speech.live.config import SessionConfig
from chorus_router.speech.live.events import (
    ClientEvent,
    SessionUpdate,
    TextAppend,
    TextClear,
    TextEnd,
    TextFlush,
    error_event,
)
from chorus_router.speech.live.text_buffer import DEFAULT_CHUNKING, TextBuffer
from chorus_router.speech.planning import SpeechPlan
from chorus_router.speech.policy import SpeechRouter
from chorus_router.speech.text_hygiene import clean_request

# One event to the client: a JSON event, or a binary frame of audio.
Send = Callable[[dict[str, Any] | bytes], Awaitable[None]]


class BufferFull(InvalidRequest):
    """More text waits to be spoken than the session allows."""


@dataclass(frozen=True)
class SpeechParts:
    """The router's parts a session speaks through."""

    router: SpeechRouter
    metrics: RouterMetrics
    encoding: EncodingPool


@dataclass(eq=False)
class Turn:
    """Text between two flushes, spoken by one provider in one voice."""

    id: str
    config: SessionConfig
    provider: str | None = None
    # Set by whichever task saw the failure: the turn speaks no more.
    failed: bool = False
    told: bool = False
    characters: int = 0
    audio_seconds: float = 0.0


@dataclass(frozen=True)
class _Piece:
    turn: Turn
    text: str


@dataclass(frozen=True)
class _Opened:
    piece: _Piece
    delivery: Delivery


@dataclass(frozen=True)
class _Failed:
    turn: Turn
    error: ChorusError


@dataclass(frozen=True)
class _TurnEnd:
    turn: Turn


@dataclass(frozen=True)
class _Finished:
    """After everything before it: the session may close."""

    done: asyncio.Event = field(default_factory=asyncio.Event)


_Queued = _Piece | _TurnEnd | _Finished
_Ready = _Opened | _Failed | _Piece | _TurnEnd | _Finished


class LiveSession:
    """One client's session; `handle` its events, `close` when the client is gone."""

    def __init__(self, parts: SpeechParts, send: Send, max_buffered_chars: int) -> None:
        self._parts = parts
        self._send = send
        self.config = SessionConfig()
        self._buffer = TextBuffer()
        self._max_unspoken = max_buffered_chars
        self._turn: Turn | None = None
        self._pending = 0
        # Characters of pieces queued and not yet spoken (with the buffer's, the bound).
        self._unspoken = 0
        self._tasks: list[asyncio.Task[None]] = []
        self._start()

    @property
    def has_text(self) -> bool:
        """Text is held that no flush has released yet."""
        return not self._buffer.empty

    @property
    def speaking(self) -> bool:
        """Pieces are being synthesized or played."""
        return self._pending > 0

    async def handle(self, event: ClientEvent) -> bool:
        """Act on one client event; True once the session has ended (`input_text.end`)."""
        if isinstance(event, SessionUpdate):
            await self.update(event.session)
        elif isinstance(event, TextAppend):
            self.append(event.text)
        elif isinstance(event, TextFlush):
            self.flush()
        elif isinstance(event, TextClear):
            await self.clear()
        elif isinstance(event, TextEnd):
            await self.end()
            return True
        return False

    async def update(self, fields: dict[str, Any]) -> None:
        """New settings for the next turn, refused (an error event) if nothing can serve them."""
        try:
            config = SessionConfig.model_validate({**self.config.model_dump(), **fields})
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise InvalidRequest(f"session.{where}: {first['msg']}", param=where) from None
        plan = self._parts.router.plan(config.request("Hello."))
        caps = plan.candidates[0].handle.capabilities
        self.config = config
        if caps is not None and caps.chunking is not None:
            self._buffer.chunking = caps.chunking
        else:
            self._buffer.chunking = DEFAULT_CHUNKING
        self._buffer.language = config.lang_code
        await self._send({"type": "session.updated", "session": config.model_dump()})

    def append(self, text: str) -> None:
        if self._turn is None:
            self._turn = Turn(uuid.uuid4().hex[:12], self.config)
        for piece in self._buffer.append(text):
            self._queue(_Piece(self._turn, piece))
        if self._unspoken + self._buffer.held_chars > self._max_unspoken:
            raise BufferFull(
                f"{self._unspoken + self._buffer.held_chars} characters wait to be spoken; "
                f"the limit is {self._max_unspoken}"
            )

    def flush(self) -> None:
        """Speak what is held; the turn ends and the next text begins another."""
        if self._turn is None:
            return
        for piece in self._buffer.flush():
            self._queue(_Piece(self._turn, piece))
        self._queue(_TurnEnd(self._turn))
        self._turn = None

    async def clear(self) -> None:
        """Barge-in: held text, queued pieces and the audio in flight are dropped, and every
        provider stream is closed, so its engine stops."""
        if self.speaking or self.has_text:
            self._parts.metrics.live_barge_ins.inc()
        await self._stop()
        self._buffer.clear()
        self._turn = None
        self._start()
        await self._send({"type": "input_text.cleared"})

    async def end(self) -> None:
        """Speak the last turn to its end (or until the sender stops: the client left)."""
        self.flush()
        finished = _Finished()
        self._queue(finished)
        waiting = asyncio.ensure_future(finished.done.wait())
        try:
            await asyncio.wait([waiting, *self._tasks], return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiting.cancel()

    async def close(self) -> None:
        """The client is gone: stop all work now."""
        await self._stop()

    def _queue(self, item: _Queued) -> None:
        self._pending += 1
        if isinstance(item, _Piece):
            self._unspoken += len(item.text)
        self._pieces.put_nowait(item)

    def _start(self) -> None:
        self._pieces: asyncio.Queue[_Queued] = asyncio.Queue()
        self._ready: asyncio.Queue[_Ready] = asyncio.Queue()
        # The stream playing and one ahead of it.
        self._ahead = asyncio.Semaphore(2)
        self._pending = 0
        self._unspoken = 0
        self._tasks = [
            asyncio.create_task(self._open_pieces(), name="live-opener"),
            asyncio.create_task(self._play_pieces(), name="live-sender"),
        ]

    async def _stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        while not self._ready.empty():
            item = self._ready.get_nowait()
            if isinstance(item, _Opened):
                await item.delivery.close()

    async def _open_pieces(self) -> None:
        while True:
            item = await self._pieces.get()
            if not isinstance(item, _Piece) or item.turn.failed:
                self._ready.put_nowait(item)
                continue
            await self._ahead.acquire()
            try:
                delivery = await self._open(item)
            except ChorusError as exc:
                self._ahead.release()
                item.turn.failed = True
                self._ready.put_nowait(_Failed(item.turn, exc))
                continue
            self._ready.put_nowait(_Opened(item, delivery))

    async def _open(self, piece: _Piece) -> Delivery:
        """The piece's provider stream: any provider for a turn's first piece, then the
        turn's own provider only."""
        turn = piece.turn
        request = clean_request(turn.config.request(piece.text))
        router = self._parts.router
        plan = router.plan(request)
        if turn.provider is not None:
            kept = [c for c in plan.candidates if c.provider == turn.provider]
            plan = SpeechPlan(request, kept, plan.markup)
            if not plan.candidates:
                raise ServiceUnavailable(
                    f"provider {turn.provider}, which began this turn, can no longer serve it "
                    "(a turn never changes voice)"
                )
        request_id = uuid.uuid4().hex
        policy = router.policy(plan, request_id)
        started = time.perf_counter()
        stream = await policy.open()
        turn.provider = stream.provider
        return Delivery(
            stream,
            policy=policy,
            metrics=self._parts.metrics,
            encoding=self._parts.encoding,
            fmt=AudioFormat(request.response_format),
            model_label=request.model,
            request_id=request_id,
            started=started,
            text_fields={"text_chars": len(piece.text), "live_turn": turn.id},
        )

    async def _play_pieces(self) -> None:
        while True:
            item = await self._ready.get()
            try:
                await self._play(item)
            finally:
                self._pending -= 1
                piece = item.piece if isinstance(item, _Opened) else item
                if isinstance(piece, _Piece):
                    self._unspoken -= len(piece.text)

    async def _play(self, item: _Ready) -> None:
        if isinstance(item, _Opened):
            turn = item.piece.turn
            try:
                if not turn.failed:
                    await self._stream(turn, item.delivery)
                    turn.characters += len(item.piece.text)
            except ChorusError as exc:
                turn.failed = True
                await self._tell(turn, exc)
            finally:
                await item.delivery.close()
                self._ahead.release()
        elif isinstance(item, _Failed):
            await self._tell(item.turn, item.error)
        elif isinstance(item, _TurnEnd):
            await self._done(item.turn)
        elif isinstance(item, _Finished):
            item.done.set()

    async def _stream(self, turn: Turn, delivery: Delivery) -> None:
        """One piece's audio, its word timings counted from the start of the turn."""
        offset = turn.audio_seconds
        async with aclosing(delivery.timed()) as audio:
            async for data, words in audio:
                if words and turn.config.timestamps == "word":
                    await self._send(_timestamps(turn, words, offset))
                if turn.config.binary:
                    await self._send(data)
                else:
                    audio_b64 = base64.b64encode(data).decode()
                    await self._send(
                        {"type": "speech.audio.delta", "audio": audio_b64, "turn_id": turn.id}
                    )
        turn.audio_seconds += delivery.audio_seconds

    async def _tell(self, turn: Turn, exc: ChorusError) -> None:
        if not turn.told:
            turn.told = True
            await self._send(error_event(exc, turn.id))

    async def _done(self, turn: Turn) -> None:
        self._parts.metrics.live_turns.labels("failed" if turn.failed else "done").inc()
        if turn.failed:
            return
        await self._send(
            {
                "type": "speech.audio.done",
                "turn_id": turn.id,
                "provider": turn.provider,
                "usage": {
                    "characters": turn.characters,
                    "audio_seconds": round(turn.audio_seconds, 3),
                },
            }
        )


def _timestamps(turn: Turn, words: list[WordTimestamp], offset: float) -> dict[str, Any]:
    shifted = [
        {"word": w.word, "start_time": w.start_time + offset, "end_time": w.end_time + offset}
        for w in words
    ]
    return {"type": "speech.audio.timestamps", "turn_id": turn.id, "timestamps": shifted}
