"""A live speech session: text in as it is written, one turn's audio out, one voice per turn.

Two tasks make a pipeline. The opener plans each piece as an ordinary speech request and
opens its provider stream through the request's failure policy (fallbacks, breakers); the
sender plays the streams in order. The opener runs at most one stream ahead of the one
playing, so the next piece is synthesized while the last one plays. A turn's first piece
picks its provider; its later pieces go to that provider only, and a failure ends the turn
with an error, never with a second voice. Clearing or closing cancels both tasks and every
stream they hold, as a client that leaves an HTTP request does.

Each turn (turns.py) is counted against the caller's rate limits as one request and its
characters.
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

from opentelemetry import trace
from pydantic import ValidationError

from chorus_audio import AudioFormat
from chorus_contracts import ChorusError, InvalidRequest, ServiceUnavailable
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
from chorus_router.speech.live.turns import Turn
from chorus_router.speech.planning import SpeechPlan
from chorus_router.speech.policy import SpeechRouter
from chorus_router.speech.text_hygiene import clean_request

# One event to the client: a JSON event, or a binary frame of audio.
Send = Callable[[dict[str, Any] | bytes], Awaitable[None]]


class BufferFull(InvalidRequest):
    """More text waits to be spoken than the session allows."""


class NoNewTurns(ServiceUnavailable):
    """The router is shutting down: the turn in progress finishes, no other begins."""

    def __init__(self) -> None:
        super().__init__(
            "the router is shutting down: this session takes no new turns; open a new "
            "session for the next one",
            retry_after=1,
        )


@dataclass(frozen=True)
class Account:
    """What the session's caller may use, decided by the caller's credentials."""

    # The reference sample of a voice that names one of the caller's custom voices (and
    # audits its use); None for any other voice name.
    stored_voice: Callable[[str], Awaitable[str | None]]
    # Counts a piece's characters against the caller's rate limits, and one request for a
    # turn's first piece (True); raises RateLimited past them.
    charge: Callable[[int, bool], Awaitable[None]]


@dataclass(frozen=True)
class SpeechParts:
    """The router's parts a session speaks through."""

    router: SpeechRouter
    metrics: RouterMetrics
    encoding: EncodingPool


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


@dataclass
class _Finished:
    """After everything before it: the session may close."""

    done: asyncio.Event = field(default_factory=asyncio.Event)
    queued: bool = False


_Queued = _Piece | _TurnEnd | _Finished
_Ready = _Opened | _Failed | _Piece | _TurnEnd | _Finished


class LiveSession:
    """One client's session; `handle` its events, `close` when the client is gone."""

    def __init__(
        self, parts: SpeechParts, account: Account, send: Send, max_buffered_chars: int
    ) -> None:
        self._parts = parts
        self._account = account
        self._send = send
        self.config = SessionConfig()
        self._voice_reference: str | None = None
        # The provider of the last turn that began: a turn on another is a fallback.
        self._last_provider: str | None = None
        # Once set (input_text.end, a drain), the session ends after the turn in progress.
        self._ending = False
        self._finished = _Finished()
        self._open_turns: set[Turn] = set()
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

    @property
    def ending(self) -> bool:
        """Past `input_text.end` or a drain: no new turn begins."""
        return self._ending

    async def finished(self) -> None:
        """Return once the session has spoken its last turn (after `end` or `drain`)."""
        await self._finished.done.wait()

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
        reference = self._voice_reference
        if config.voice != self.config.voice:
            # A custom voice is looked up (and audited) once per change, not per piece.
            reference = await self._account.stored_voice(config.voice)
        plan = self._parts.router.plan(config.request("Hello.", reference))
        caps = plan.candidates[0].handle.capabilities
        self.config = config
        self._voice_reference = reference
        if caps is not None and caps.chunking is not None:
            self._buffer.chunking = caps.chunking
        else:
            self._buffer.chunking = DEFAULT_CHUNKING
        self._buffer.language = config.lang_code
        await self._send({"type": "session.updated", "session": config.model_dump()})

    def append(self, text: str) -> None:
        if self._turn is None:
            if self._ending:
                raise NoNewTurns()
            self._turn = self._begin_turn()
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
        self._turn.flushed = time.perf_counter()
        for piece in self._buffer.flush():
            self._queue(_Piece(self._turn, piece))
        self._queue(_TurnEnd(self._turn))
        self._turn = None
        self._finish_if_ending()

    def drain(self) -> None:
        """The router is stopping: the turn being written is still spoken (up to its flush,
        or the idle flush), new turns are refused, and then the session is `finished`."""
        self._ending = True
        self._finish_if_ending()

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
        self._finish_if_ending()

    async def end(self) -> None:
        """Speak the last turn to its end (or until the sender stops: the client left)."""
        self._ending = True
        self.flush()
        self._finish_if_ending()  # when no turn was being written
        waiting = asyncio.ensure_future(self.finished())
        try:
            await asyncio.wait([waiting, *self._tasks], return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiting.cancel()

    async def close(self) -> None:
        """The client is gone: stop all work now."""
        await self._stop()

    def _begin_turn(self) -> Turn:
        turn = Turn.begin(self.config, self._voice_reference)
        self._open_turns.add(turn)
        return turn

    def _end_turn(self, turn: Turn, cancelled: bool = False) -> None:
        if turn in self._open_turns:
            self._open_turns.discard(turn)
            turn.end(cancelled)

    def _finish_if_ending(self) -> None:
        """Once ending and no turn is being written: the session finishes after what is queued."""
        if self._ending and self._turn is None and not self._finished.queued:
            self._finished.queued = True
            self._queue(self._finished)

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
        self._finished.queued = False
        # Turns dropped unspoken (a clear, the client gone) end their spans here.
        for turn in list(self._open_turns):
            self._end_turn(turn, cancelled=True)

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
        with trace.use_span(turn.span):
            first = turn.provider is None
            await self._account.charge(len(piece.text), first)
            delivery = await self._open_in_turn(piece)
        if first and turn.provider is not None:
            if self._last_provider not in (None, turn.provider):
                self._parts.metrics.live_fallbacks.inc()
            self._last_provider = turn.provider
        return delivery

    async def _open_in_turn(self, piece: _Piece) -> Delivery:
        turn = piece.turn
        request = clean_request(turn.config.request(piece.text, turn.voice_reference))
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
            sample_rate=turn.config.sample_rate,
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
                await self._tell(turn, exc)
            finally:
                await item.delivery.close()
                self._ahead.release()
        elif isinstance(item, _Failed):
            await self._tell(item.turn, item.error)
        elif isinstance(item, _TurnEnd):
            await self._done(item.turn)
            self._end_turn(item.turn)
        elif isinstance(item, _Finished):
            item.done.set()

    async def _stream(self, turn: Turn, delivery: Delivery) -> None:
        """One piece's audio, its word timings counted from the start of the turn."""
        offset = turn.audio_seconds
        async with aclosing(delivery.timed()) as audio:
            async for data, words, _ in audio:
                if not data:
                    continue  # only marks, which live sessions do not carry
                if not turn.heard:
                    turn.first_audio(self._parts.metrics)
                if words and turn.config.timestamps == "word":
                    await self._send(turn.timestamps_event(words, offset))
                if turn.config.binary:
                    await self._send(data)
                else:
                    audio_b64 = base64.b64encode(data).decode()
                    await self._send(
                        {"type": "speech.audio.delta", "audio": audio_b64, "turn_id": turn.id}
                    )
        turn.audio_seconds += delivery.audio_seconds

    async def _tell(self, turn: Turn, exc: ChorusError) -> None:
        turn.failed = True
        if turn.error is None:
            turn.error = exc
            await self._send(error_event(exc, turn.id))

    async def _done(self, turn: Turn) -> None:
        self._parts.metrics.live_turns.labels("failed" if turn.failed else "done").inc()
        if turn.failed:
            return
        await self._send(turn.done_event())
