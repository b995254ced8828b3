"""Silences and speech measured on decoded audio, as a listener would time them."""

from __future__ import annotations

import numpy as np

# 10 ms frames whose loudest sample stays under about -40 dBFS are silent.
_FRAME_S = 0.01
_SILENT = 330


def _silent_frames(pcm: bytes, sample_rate: int) -> np.ndarray:
    samples = np.abs(np.frombuffer(pcm, dtype="<i2").astype(np.int32))
    size = max(1, round(_FRAME_S * sample_rate))
    frames = samples[: len(samples) // size * size].reshape(-1, size)
    return np.asarray(frames.max(axis=1) <= _SILENT)


def inner_silences(pcm: bytes, sample_rate: int) -> list[float]:
    """The lengths in seconds of the silences between sounds (not at the audio's edges),
    longest first."""
    silent = _silent_frames(pcm, sample_rate)
    sounding = np.flatnonzero(~silent)
    if not len(sounding):
        return []
    runs, length = [], 0
    for quiet in silent[sounding[0] : sounding[-1] + 1]:
        if quiet:
            length += 1
        elif length:
            runs.append(length * _FRAME_S)
            length = 0
    return sorted(runs, reverse=True)


def sounding_seconds(pcm: bytes, sample_rate: int) -> float:
    """From the first sound to the last, in seconds (edge silences left out)."""
    sounding = np.flatnonzero(~_silent_frames(pcm, sample_rate))
    return 0.0 if not len(sounding) else (sounding[-1] - sounding[0] + 1) * _FRAME_S
