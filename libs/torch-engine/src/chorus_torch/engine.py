"""The base of every torch provider: weights, placement, generation in a thread, streaming."""

from __future__ import annotations

import asyncio
from abc import abstractmethod
from collections.abc import AsyncIterator, Awaitable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Generic, TypeVar

import numpy as np
import numpy.typing as npt
import torch
from transformers import StoppingCriteriaList

from chorus_contracts import SynthesisRequest
from chorus_provider import Engine
from chorus_provider.cancel import CancelSignal
from chorus_torch.decoding import SharedDecoder
from chorus_torch.device import Placement, choose_placement
from chorus_torch.frames import FrameSink, FrameWindows
from chorus_torch.memory import check_gpu_memory
from chorus_torch.residency import Residency
from chorus_torch.settings import TorchSettings
from chorus_torch.stopping import CancelCriteria
from chorus_torch.streaming import stream_generation
from chorus_torch.weights import resolve_weights, weight_bytes

M = TypeVar("M")


class TorchEngine(Engine, Generic[M]):
    """A model generating codec frames that a codec decodes to audio.

    A provider implements `load_model` (weights directory -> whatever it needs at run
    time), `check` (refuse bad requests before any audio), `generate` (blocking, in a
    worker thread: run the model, put frames into the sink, honour the stopping criteria)
    and `decode` (frames -> waveform). The base resolves the weights without downloading,
    checks GPU memory, streams windows of frames as they decode, stops `generate` within a
    step of a cancel, and optionally unloads the model when idle.
    """

    def __init__(self, settings: TorchSettings) -> None:
        self.settings = settings
        # Per generation slot one thread generates while another decodes what it made.
        self._executor = ThreadPoolExecutor(
            max_workers=2 * settings.max_concurrency, thread_name_prefix="torch"
        )
        self._env_prefix = str(type(settings).model_config.get("env_prefix", ""))
        self._model_dir: Path | None = None
        self._placement: Placement | None = None
        self._residency: Residency[M] | None = None

    @property
    def placement(self) -> Placement:
        assert self._placement is not None, "load() first"
        return self._placement

    @abstractmethod
    def load_model(self, model_dir: Path, placement: Placement) -> M:
        """Load the weights in `model_dir` onto `placement`; blocking, runs in a thread."""

    @abstractmethod
    def check(self, request: SynthesisRequest) -> None:
        """Refuse what this engine cannot do (unknown voice, bad extra) before any audio."""

    @abstractmethod
    def generate(
        self, model: M, request: SynthesisRequest, sink: FrameSink, stop: StoppingCriteriaList
    ) -> None:
        """Generate the request's frames into `sink`; blocking, runs in a worker thread."""

    @abstractmethod
    def decode(self, model: M, frames: torch.Tensor) -> npt.NDArray[np.floating]:
        """Codec frames (frames, codebooks) to a mono float waveform at the native rate."""

    async def decode_window(self, model: M, frames: torch.Tensor) -> npt.NDArray[np.floating]:
        """`decode` on the executor; an engine whose streams share codec calls (a
        `SharedDecoder`) overrides this to hand the window to them."""

        def decode() -> npt.NDArray[np.floating]:
            with torch.inference_mode():
                return self.decode(model, frames)

        return await asyncio.get_running_loop().run_in_executor(self._executor, decode)

    def warm_decoder(self, decoder: SharedDecoder, codebooks: int, device: torch.device) -> None:
        """Warm `decoder` for each window length a stream goes through up to the steady
        one, `codebooks` codebooks, from 1 to as many windows at once as the engine runs."""
        # Enough frames for the doubling windows and two steady ones.
        frames = torch.zeros(
            (4 * self.settings.stream_window_frames, codebooks), dtype=torch.long, device=device
        )
        decoder.warm(self._windows(), frames, self.settings.max_concurrency)

    def _windows(self) -> FrameWindows:
        return FrameWindows(
            self.settings.stream_window_frames,
            self.settings.stream_context_frames,
            self.settings.stream_first_window_frames,
        )

    @property
    def executor(self) -> ThreadPoolExecutor:
        """The threads that generate and decode."""
        return self._executor

    async def load(self) -> None:
        loop = asyncio.get_running_loop()
        self._model_dir = await loop.run_in_executor(
            self._executor, resolve_weights, self.settings, self._env_prefix
        )
        self._placement = choose_placement(self.settings)
        if self.settings.cpu_threads is not None:
            torch.set_num_threads(self.settings.cpu_threads)
        self._residency = Residency(self._load_checked, self.settings.idle_unload_s, self._executor)
        await self._residency.load()

    def _load_checked(self) -> M:
        assert self._model_dir is not None
        placement = self.placement
        needed = weight_bytes(self._model_dir, placement.dtype)
        check_gpu_memory(placement, needed, self.settings.gpu_memory_reserve_mb)
        if self.settings.seed is not None:
            torch.manual_seed(self.settings.seed)
        with torch.inference_mode():
            return self.load_model(self._model_dir, placement)

    def readiness(self) -> str | None:
        return self._residency.describe() if self._residency is not None else None

    async def synthesize(
        self, request: SynthesisRequest, cancel: CancelSignal
    ) -> AsyncIterator[bytes]:
        assert self._residency is not None, "load() first"
        self.check(request)
        stop = StoppingCriteriaList([CancelCriteria(cancel)])
        windows = self._windows()
        async with self._residency.use() as model:

            def generate(sink: FrameSink) -> None:
                with torch.inference_mode():
                    self.generate(model, request, sink, stop)

            def decode(frames: torch.Tensor) -> Awaitable[npt.NDArray[np.floating]]:
                return self.decode_window(model, frames)

            async for pcm in stream_generation(generate, decode, windows, cancel, self._executor):
                yield pcm

    async def close(self) -> None:
        if self._residency is not None:
            await self._residency.close()
        self._executor.shutdown(wait=False, cancel_futures=True)
