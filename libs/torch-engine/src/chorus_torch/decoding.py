"""One codec call for the windows that many streams want decoded at the same moment.

Batched members make their frames in the same steps, so their windows come due together.
Decoded one by one they would run the codec once per stream, side by side on the same
cores; here the windows asked for in one pass of the event loop go to the codec as one
job (`decode_soon`), and the first job decodes every window waiting then (one call per
window length) and hands each its waveform, while the jobs behind it wait. Nothing waits
for company: a window that arrives alone is decoded at once.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from contextlib import nullcontext
from dataclasses import dataclass, field
from weakref import WeakKeyDictionary

import numpy as np
import numpy.typing as npt
import torch

from chorus_torch.frames import FrameWindows
from chorus_torch.turns import Turns

# Frames of many windows of one length (windows, frames, codebooks) to one waveform each
# (windows, samples).
DecodeMany = Callable[[torch.Tensor], npt.NDArray[np.floating]]
Wave = npt.NDArray[np.floating]

# oneDNN keeps the CPU kernels it builds in a cache of 1024 unless told otherwise; warming
# a codec for 8 streams builds more than that (about 1200 for the tiny Higgs codec, some 35
# a shape), so the warm-up evicted its own first kernels and the first streams to come
# together rebuilt them (25-30 ms a call). The warm-up makes room for this many a shape it
# warms: a real codec has more layers than a tiny one. oneDNN reads the size once, when
# the process builds its first kernel (in a provider, this warm-up); a size the operator
# set stays.
_ONEDNN_CACHE = "ONEDNN_PRIMITIVE_CACHE_CAPACITY"
_ONEDNN_DEFAULT = 1024
_KERNELS_PER_SHAPE = 256


@dataclass(eq=False)
class _Job:
    windows: Sequence[torch.Tensor]
    # Set once: when the job is decoded, or when its caller is to lead the next round.
    wake: threading.Event = field(default_factory=threading.Event)
    made: list[Wave | Exception] | None = None
    lead: bool = False


class SharedDecoder:
    """Decodes windows from many threads, coalescing those waiting into batched calls."""

    def __init__(self, decode_many: DecodeMany, turns: Turns | None = None) -> None:
        """`turns`, where given, are taken with the model's steps for each codec call."""
        self._decode_many = decode_many
        self._turns = turns
        self._lock = threading.Lock()
        self._waiting: list[_Job] = []
        self._busy = False
        # Per event loop: windows asked for in its current pass, each with its future.
        self._gathered: WeakKeyDictionary[
            asyncio.AbstractEventLoop, list[tuple[torch.Tensor, asyncio.Future[Wave]]]
        ] = WeakKeyDictionary()

    @property
    def waiting(self) -> int:
        """Windows waiting for the codec call now running to end."""
        return sum(len(job.windows) for job in self._waiting)

    def warm(self, windows: FrameWindows, frames: torch.Tensor, up_to: int) -> None:
        """Decode each window length that `windows` cuts from `frames` (frames, codebooks),
        until a length comes again (the steady one), in calls of 1 to `up_to` windows, once.

        A codec on the CPU builds its convolution kernels (oneDNN) for each input shape it
        meets first, 10-45 ms each for a small one: without this, the first streams that
        come together would wait for that while their windows decode.
        """
        windows.add(frames)
        lengths: dict[int, torch.Tensor] = {}
        while (window := windows.next()) is not None and window.frames.shape[0] not in lengths:
            lengths[window.frames.shape[0]] = window.frames
        shapes = len(lengths) * up_to
        os.environ.setdefault(_ONEDNN_CACHE, str(_ONEDNN_DEFAULT + _KERNELS_PER_SHAPE * shapes))
        for window_frames in lengths.values():
            for count in range(1, up_to + 1):
                for made in self.decode_all([window_frames] * count):
                    if isinstance(made, Exception):
                        raise made

    def decode(self, frames: torch.Tensor) -> Wave:
        """The waveform of `frames` (frames, codebooks); blocks until decoded."""
        made = self.decode_all([frames])[0]
        if isinstance(made, Exception):
            raise made
        return made

    async def decode_soon(self, frames: torch.Tensor, executor: Executor) -> Wave:
        """The waveform of `frames`, decoded on `executor` in one job with the windows other
        streams ask for in the same pass of the event loop (their frames came from one step).
        """
        loop = asyncio.get_running_loop()
        done: asyncio.Future[Wave] = loop.create_future()
        gathered = self._gathered.get(loop)
        if gathered is None:
            # The first of this pass: the job leaves once the pass is over.
            gathered = self._gathered[loop] = []
            loop.call_soon(self._submit, loop, executor)
        gathered.append((frames, done))
        return await done

    def _submit(self, loop: asyncio.AbstractEventLoop, executor: Executor) -> None:
        gathered = self._gathered.pop(loop)
        try:
            job = loop.run_in_executor(
                executor, self.decode_all, [frames for frames, _ in gathered]
            )
        except RuntimeError as exc:  # the executor is shut down: the engine is closing
            for _, done in gathered:
                done.set_exception(exc)
            return

        def hand_out(job: asyncio.Future[list[Wave | Exception]]) -> None:
            for index, (_, done) in enumerate(gathered):
                if done.done():  # its stream has left
                    continue
                if job.cancelled():  # the engine is closing
                    done.cancel()
                elif (error := job.exception()) is not None:
                    done.set_exception(error)
                elif isinstance(made := job.result()[index], Exception):
                    done.set_exception(made)
                else:
                    done.set_result(made)

        job.add_done_callback(hand_out)

    def decode_all(self, windows: Sequence[torch.Tensor]) -> list[Wave | Exception]:
        """The waveform of each window, or the error of the codec call it was in; blocks."""
        job = _Job(windows)
        with self._lock:
            self._waiting.append(job)
            job.lead = not self._busy
            self._busy = True
        while job.made is None:
            if job.lead:
                self._round()  # decodes this job among the waiting
            else:
                job.wake.wait()
        return job.made

    def _round(self) -> None:
        """Decode every waiting window, then pass the lead to a job still waiting."""
        with self._lock:
            jobs, self._waiting = self._waiting, []
        made: dict[int, list[Wave | Exception]] = {
            id(job): [RuntimeError("not decoded")] * len(job.windows) for job in jobs
        }
        by_length: dict[int, list[tuple[_Job, int]]] = {}
        for job in jobs:
            for index, frames in enumerate(job.windows):
                by_length.setdefault(int(frames.shape[0]), []).append((job, index))
        with torch.inference_mode():
            for same in by_length.values():
                for (job, index), wave in zip(same, self._decode(same), strict=True):
                    made[id(job)][index] = wave
        for job in jobs:
            job.made = made[id(job)]
            job.wake.set()
        with self._lock:
            if self._waiting:
                self._waiting[0].lead = True
                self._waiting[0].wake.set()
            else:
                self._busy = False

    def _decode(self, windows: list[tuple[_Job, int]]) -> list[Wave | Exception]:
        try:
            frames = torch.stack([job.windows[i] for job, i in windows])
            with self._turns or nullcontext():
                waves = self._decode_many(frames)
        except Exception as exc:  # fails these windows' streams, as decoding alone would
            return [exc] * len(windows)
        return list(waves)
