"""Reference samples as the router sends them to cloning providers: mono 16-bit WAV."""

from __future__ import annotations

import io
import wave

import numpy as np


def reference_wav(seconds: float = 3.0, sample_rate: int = 24_000) -> bytes:
    """A voiced-sounding sample: a gliding tone with harmonics under a syllable-rate envelope."""
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    pitch = 140 + 30 * np.sin(2 * np.pi * 0.5 * t)
    phase = 2 * np.pi * np.cumsum(pitch) / sample_rate
    voiced = sum(np.sin(k * phase) / k for k in range(1, 6))
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 4 * t) ** 2
    samples = np.round(voiced * envelope / 2.5 * 20_000).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(samples.tobytes())
    return buffer.getvalue()
