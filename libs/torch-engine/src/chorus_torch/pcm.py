"""Waveforms as the provider contract carries them: s16le mono."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def to_pcm16(wave: npt.NDArray[np.floating]) -> bytes:
    """Float samples in [-1, 1] (clipped beyond) to signed 16-bit little-endian bytes."""
    clipped = np.clip(np.asarray(wave, dtype=np.float32).reshape(-1), -1.0, 1.0)
    return bytes(np.round(clipped * 32767.0).astype("<i2").tobytes())
