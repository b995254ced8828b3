"""One codec call for the windows that many streams want decoded at the same moment.

Batched members make their frames in the same steps, so their windows come due together.
Decoded one by one they would run the codec once per stream, side by side on the same
cores; here the first caller decodes every window waiting then (one call per window
length) and hands each its waveform, while the callers behind it wait. Nothing waits for
company: a window that arrives alone is decoded at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import torch

# Frames of many windows of one length (windows, frames, codebooks) to one waveform each
# (windows, samples).
DecodeMany = Callable[[torch.Tensor], npt.NDArray[np.floating]]


@dataclass(eq=False)
class _Job:
    frames: torch.Tensor
    # Set once: when the job is decoded, or when its caller is to lead the next round.
    wake: threading.Event = field(default_factory=threading.Event)
    wave: npt.NDArray[np.floating] | None = None
    error: BaseException | None = None
    lead: bool = False

    @property
    def done(self) -> bool:
        return self.wave is not None or self.error is not None


class SharedDecoder:
    """Decodes windows from many threads, coalescing those waiting into batched calls."""

    def __init__(self, decode_many: DecodeMany) -> None:
        self._decode_many = decode_many
        self._lock = threading.Lock()
        self._waiting: list[_Job] = []
        self._busy = False

    @property
    def waiting(self) -> int:
        """Windows waiting for the codec call now running to end."""
        return len(self._waiting)

    def decode(self, frames: torch.Tensor) -> npt.NDArray[np.floating]:
        """The waveform of `frames` (frames, codebooks); blocks until decoded."""
        job = _Job(frames)
        with self._lock:
            self._waiting.append(job)
            job.lead = not self._busy
            self._busy = True
        while not job.done:
            if job.lead:
                self._round()  # decodes this job among the waiting
            else:
                job.wake.wait()
        if job.error is not None:
            raise job.error
        assert job.wave is not None
        return job.wave

    def _round(self) -> None:
        """Decode every waiting window, then pass the lead to a caller still waiting."""
        with self._lock:
            jobs, self._waiting = self._waiting, []
        by_length: dict[int, list[_Job]] = {}
        for job in jobs:
            by_length.setdefault(int(job.frames.shape[0]), []).append(job)
        for same in by_length.values():
            self._decode(same)
        with self._lock:
            if self._waiting:
                self._waiting[0].lead = True
                self._waiting[0].wake.set()
            else:
                self._busy = False

    def _decode(self, jobs: list[_Job]) -> None:
        try:
            waves = self._decode_many(torch.stack([job.frames for job in jobs]))
        except Exception as exc:  # fails these windows' streams, as decoding alone would
            for job in jobs:
                job.error = exc
                job.wake.set()
            return
        for job, wave in zip(jobs, waves, strict=True):
            job.wave = wave
            job.wake.set()
