"""A model that stays loaded while in use and may be let go after idling."""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Executor
from contextlib import asynccontextmanager
from typing import Generic, TypeVar

import torch

from chorus_contracts import ServiceUnavailable

log = logging.getLogger("chorus.torch")

M = TypeVar("M")


class Residency(Generic[M]):
    """Holds the loaded model; with `idle_unload_s` > 0, frees it after that long unused.

    The next request loads it again (and waits for that); `describe()` says which state
    the model is in, for readiness.
    """

    def __init__(self, load: Callable[[], M], idle_unload_s: float, executor: Executor) -> None:
        self._load = load
        self._idle_unload_s = idle_unload_s
        self._executor = executor
        self._model: M | None = None
        self._lock = asyncio.Lock()
        self._users = 0
        self._unload_timer: asyncio.TimerHandle | None = None
        self._unloaded_at: float | None = None
        self.loads = 0

    async def load(self) -> None:
        async with self._lock:
            await self._ensure_loaded()
        self._schedule_unload()

    @asynccontextmanager
    async def use(self) -> AsyncIterator[M]:
        """The model, loaded first if it was let go; kept loaded until the block ends."""
        if self._unload_timer is not None:
            self._unload_timer.cancel()
            self._unload_timer = None
        self._users += 1
        try:
            async with self._lock:
                model = await self._ensure_loaded()
            yield model
        finally:
            self._users -= 1
            self._schedule_unload()

    def describe(self) -> str:
        if self._model is not None:
            return "model loaded"
        if self._unloaded_at is not None:
            idle = time.monotonic() - self._unloaded_at + self._idle_unload_s
            return f"model unloaded after {idle:.0f}s idle; the next request loads it"
        return "model not loaded"

    async def close(self) -> None:
        if self._unload_timer is not None:
            self._unload_timer.cancel()
        self._drop()

    async def _ensure_loaded(self) -> M:
        if self._model is None:
            loop = asyncio.get_running_loop()
            try:
                self._model = await loop.run_in_executor(self._executor, self._load)
            except Exception as exc:
                if self.loads == 0:
                    raise  # at start-up: the service stays unready with this reason
                log.exception("reloading the model failed")
                raise ServiceUnavailable(f"reloading the model failed: {exc}") from None
            self.loads += 1
            self._unloaded_at = None
        return self._model

    def _schedule_unload(self) -> None:
        if self._idle_unload_s <= 0 or self._users or self._model is None:
            return
        loop = asyncio.get_running_loop()
        self._unload_timer = loop.call_later(self._idle_unload_s, self._unload_if_idle)

    def _unload_if_idle(self) -> None:
        self._unload_timer = None
        if self._users or self._model is None or self._lock.locked():
            return
        self._drop()
        self._unloaded_at = time.monotonic()
        log.info("model unloaded after %.0fs idle", self._idle_unload_s)

    def _drop(self) -> None:
        self._model = None
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
