"""Encoding and resampling off the event loop, in a bounded set of worker threads.

An mp3 or opus encode of a long chunk takes milliseconds to tens of milliseconds of CPU;
on the event loop that time delays every other request's first byte. Each response
submits at most one job at a time (its encoder is stateful), so the queue is bounded by
the responses in progress and the CPU by the worker count.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

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

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
