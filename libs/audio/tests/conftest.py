"""Synthetic speech-like test audio: a 440 Hz tone with a little noise, as s16le mono."""

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pytest

TONE_HZ = 440.0


def tone(rate: int, seconds: float, seed: int = 0) -> npt.NDArray[np.int16]:
    n = round(rate * seconds)
    t = np.arange(n) / rate
    rng = np.random.default_rng(seed)
    signal = 0.3 * np.sin(2 * np.pi * TONE_HZ * t) + rng.normal(0.0, 0.01, n)
    return np.round(signal * 32767).astype("<i2")


@pytest.fixture
def make_pcm() -> Callable[[int, float], bytes]:
    """`make_pcm(rate, seconds)`: a 440 Hz tone at 0.3 full scale plus 1% white noise."""

    def factory(rate: int, seconds: float) -> bytes:
        return tone(rate, seconds).tobytes()

    return factory
