import warnings

import numpy as np
import pytest

from chorus_audio import pcm_to_ulaw


def test_every_sample_matches_the_reference_g711() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        audioop = pytest.importorskip("audioop", reason="the stdlib's G.711 (gone in 3.13)")
    every = np.arange(-32768, 32768).astype("<i2").tobytes()
    assert pcm_to_ulaw(every) == audioop.lin2ulaw(every, 2)


def test_silence_and_full_scale() -> None:
    pcm = np.array([0, 32767, -32768], dtype="<i2").tobytes()
    assert pcm_to_ulaw(pcm) == bytes([0xFF, 0x80, 0x00])
