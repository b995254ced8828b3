"""Running one generation in a worker thread and streaming its audio as windows decode."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import Executor

import numpy as np
import numpy.typing as npt
import torch

from chorus_provider.cancel import Cancelled, CancelSignal
from chorus_torch.frames import FrameSink, FrameWindows, Window
from chorus_torch.pcm import to_pcm16

Generate = Callable[[FrameSink], None]
# A window of frames to its waveform, awaited on the event loop (the codec runs elsewhere).
Decode = Callable[[torch.Tensor], Awaitable[npt.NDArray[np.floating]]]

_END = torch.empty(0)


async def stream_generation(
    generate: Generate,
    decode: Decode,
    windows: FrameWindows,
    cancel: CancelSignal,
    executor: Executor,
) -> AsyncIterator[bytes]:
    """Yield PCM for each window of frames `generate` (blocking) puts into its sink.

    `decode` runs the codec off the event loop while generation goes on. When the consumer leaves
    early, the cancel signal is set and this waits for `generate` to return, so the engine
    is free again when the caller's slot is released.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[torch.Tensor] = asyncio.Queue()
    generation = loop.run_in_executor(executor, generate, FrameSink(loop, queue))
    generation.add_done_callback(lambda _: loop.call_soon_threadsafe(queue.put_nowait, _END))
    finished = False
    try:
        while (frames := await queue.get()) is not _END:
            windows.add(frames)
            while (window := windows.next()) is not None:
                yield await _decoded(decode, window)
        await generation  # raises what generate raised
        cancel.raise_if_set()
        if (window := windows.next(final=True)) is not None:
            yield await _decoded(decode, window)
        finished = True
    finally:
        if not finished:
            cancel.set()
            await asyncio.wait([generation])
            if not generation.cancelled():
                generation.exception()  # the consumer left: what generate raised is moot


async def _decoded(decode: Decode, window: Window) -> bytes:
    wave = await decode(window.frames)
    flat = np.asarray(wave).reshape(-1)
    drop = round(len(flat) * window.context / window.frames.shape[0]) if window.context else 0
    return to_pcm16(flat[drop:])


__all__ = ["Cancelled", "Decode", "Generate", "stream_generation"]
