"""Codec frames, from the thread running `generate` to the event loop, in decodable windows."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from weakref import WeakKeyDictionary, ref

import torch
from transformers.generation.streamers import BaseStreamer


class StepStreamer(BaseStreamer):
    """A `generate` streamer that hands each decoding step's new tokens to `on_step`.

    `generate` first puts the prompt, which is skipped: only generated tokens are audio.
    """

    def __init__(self, on_step: Callable[[torch.Tensor], None]) -> None:
        self._on_step = on_step
        self._prompt_seen = False

    def put(self, value: torch.Tensor) -> None:
        if not self._prompt_seen:
            self._prompt_seen = True
            return
        self._on_step(value)

    def end(self) -> None:
        """Nothing to flush: the generation's own completion ends the stream."""


# Frames for a stream's queue.
_Put = tuple[asyncio.Queue[torch.Tensor], torch.Tensor]
# What sinks put on this thread inside `delivered_together`, by handoff.
_HELD = threading.local()


@contextmanager
def delivered_together() -> Iterator[None]:
    """Frames that sinks get on this thread inside reach their loops together, at the end.

    A batched step puts its members' frames one after another; woken by the first, a loop
    could hand that one to its stream before the others arrive, and the windows they
    complete would go to the codec in two calls instead of one. A sink's own stream ends
    only after its frames are handed over, so whoever ends it must leave this first.
    """
    _HELD.puts = held = dict[_Handoff, list[_Put]]()
    try:
        yield
    finally:
        del _HELD.puts
        for handoff, puts in held.items():
            handoff.put(puts)


class FrameSink:
    """Where a generating thread puts codec frames, each a (frames, codebooks) tensor.

    Frames cross to the event loop's queue; a request produces at most the model's
    `max_new_tokens` frames, which bounds the queue.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[torch.Tensor]) -> None:
        self._handoff = _handoff(loop)
        self._queue = queue

    def put(self, frames: torch.Tensor) -> None:
        if not frames.shape[0]:
            return
        put = (self._queue, frames.detach().cpu())
        held: dict[_Handoff, list[_Put]] | None = getattr(_HELD, "puts", None)
        if held is None:
            self._handoff.put([put])
        else:
            held.setdefault(self._handoff, []).append(put)


class _Handoff:
    """Frames from worker threads to one event loop's queues, waking the loop once for all
    the frames put before it ran.

    A batched step puts every member's frames at once; a wake-up each (a write to the
    loop's socket and a switch of threads) would cost the step more than its sampling.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        # Weakly: the registry below is keyed weakly by the loop, which this must not hold.
        self._loop = ref(loop)
        self._lock = threading.Lock()
        self._pending: list[_Put] = []

    def put(self, puts: list[_Put]) -> None:
        with self._lock:
            wake = not self._pending  # else a drain is already on its way
            self._pending.extend(puts)
        loop = self._loop()
        if wake and loop is not None:  # no loop: nobody is left to stream to
            loop.call_soon_threadsafe(self._drain)

    def _drain(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, []
        for queue, frames in pending:
            queue.put_nowait(frames)


_HANDOFFS: WeakKeyDictionary[asyncio.AbstractEventLoop, _Handoff] = WeakKeyDictionary()


def _handoff(loop: asyncio.AbstractEventLoop) -> _Handoff:
    """The loop's handoff; sinks are made on the loop's own thread, one at a time."""
    handoff = _HANDOFFS.get(loop)
    if handoff is None:
        handoff = _HANDOFFS[loop] = _Handoff(loop)
    return handoff


@dataclass(frozen=True)
class Window:
    """Frames to decode together; the first `context` were decoded before and are dropped."""

    frames: torch.Tensor
    context: int


class FrameWindows:
    """Cuts a stream of frames into windows of `size`, each led by `context` earlier frames.

    The earlier frames give the codec's decoder what it saw before the window's start, so
    windows join without a click; their samples are dropped after decoding. The first
    window holds `first` frames (at most `size`) and each next one twice as many as the one
    before, up to `size`: the first audio waits for a few steps only, and each window's
    playback covers the making of the next (when the model is faster than real time).
    """

    def __init__(self, size: int, context: int, first: int | None = None) -> None:
        self._size = size
        self._next_size = min(size, first or size)
        self._context = context
        self._pending: list[torch.Tensor] = []
        self._pending_count = 0
        self._previous: torch.Tensor | None = None

    def add(self, frames: torch.Tensor) -> None:
        self._pending.append(frames)
        self._pending_count += frames.shape[0]

    def next(self, final: bool = False) -> Window | None:
        """The next full window, or at the end whatever is left; None when not yet."""
        size = self._next_size
        if self._pending_count == 0 or (self._pending_count < size and not final):
            return None
        self._next_size = min(self._size, 2 * size)
        pending = torch.cat(self._pending)
        body, rest = pending[:size], pending[size:]
        self._pending = [rest] if rest.shape[0] else []
        self._pending_count = rest.shape[0]
        lead = self._previous if self._previous is not None else body[:0]
        self._previous = body[-self._context :] if self._context else None
        return Window(torch.cat([lead, body]), context=lead.shape[0])
