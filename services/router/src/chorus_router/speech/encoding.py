"""Encoding and resampling off the event loop, in a bounded set of worker threads.

An mp3 or opus encode of a long chunk takes milliseconds to tens of milliseconds of CPU;
on the event loop that time delays every other request's first byte. Each response
submits at most one job at a time (its encoder is stateful), so the queue is bounded by
the responses in progress and the CPU by the worker count.

pcm and wav are only resampled, tens of microseconds a slice, and stay on the event loop:
the hop to a worker and back cost their first byte more than the work, most of all while
an engine's threads hold both cores (docs/performance.md, router overhead).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from chorus_audio import StreamEncoder

T = TypeVar("T")


class EncodingPool:
    """Runs encoder calls in `workers` threads; 0 runs them inline on the event loop."""

    def __init__(self, workers: int) -> None:
        self._executor = (
            ThreadPoolExecutor(max_workers=workers, thread_name_prefix="encode")
            if workers
            else None
        )

    async def run(self, call: Callable[..., T], *args: Any) -> T:
        if self._executor is None:
            return call(*args)
        job = asyncio.get_running_loop().run_in_executor(self._executor, call, *args)
        try:
            return await asyncio.shield(job)
        except asyncio.CancelledError:
            # The encoder is about to be closed: let the thread finish with it first.
            await asyncio.wait([job])
            raise

    async def encode(self, encoder: StreamEncoder, pcm: bytes) -> bytes:
        if encoder.light:
            return encoder.encode(pcm)
        return await self.run(encoder.encode, pcm)

    async def finish(self, encoder: StreamEncoder) -> bytes:
        if encoder.light:
            return encoder.finish()
        return await self.run(encoder.finish)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
