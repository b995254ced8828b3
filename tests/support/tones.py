"""Reading tone-engine audio back: which frequencies does a response contain?"""

from __future__ import annotations

import numpy as np


def dominant_frequencies(pcm: bytes, rate: int = 24_000, window_s: float = 0.1) -> set[int]:
    """The dominant frequency (rounded to 10 Hz) of each non-silent window of s16le PCM."""
    samples = np.frombuffer(pcm[: len(pcm) - len(pcm) % 2], dtype="<i2").astype(np.float64)
    size = int(rate * window_s)
    found = set()
    for start in range(0, len(samples) - size + 1, size):
        window = samples[start : start + size]
        if np.sqrt(np.mean(window**2)) < 500:
            continue
        spectrum = np.abs(np.fft.rfft(window * np.hanning(size)))
        peak = float(np.fft.rfftfreq(size, 1 / rate)[int(np.argmax(spectrum))])
        found.add(int(round(peak, -1)))
    return found
