"""Voice references become float samples at the model's rate; bad ones are the client's error."""

from __future__ import annotations

import base64

import numpy as np
import pytest

from chorus_contracts import InvalidAudio, InvalidRequest
from chorus_provider.testing import reference_wav
from chorus_torch import reference_audio


def encoded(seconds: float, rate: int = 24_000) -> str:
    return base64.b64encode(reference_wav(seconds, rate)).decode("ascii")


def test_a_sample_is_resampled_to_the_models_rate() -> None:
    samples = reference_audio(encoded(1.0), 44_100, max_seconds=5)
    assert samples.dtype == np.float32
    assert abs(len(samples) - 44_100) < 100
    assert 0.05 < float(np.abs(samples).max()) <= 1.0


def test_too_long_or_not_a_wav_is_refused_naming_the_field() -> None:
    with pytest.raises(InvalidAudio, match="at most 2s") as long:
        reference_audio(encoded(3.0), 44_100, max_seconds=2)
    with pytest.raises(InvalidRequest, match="not a WAV") as garbage:
        reference_audio(base64.b64encode(b"x" * 100).decode(), 44_100, max_seconds=2)
    assert long.value.param == garbage.value.param == "voice_reference"
