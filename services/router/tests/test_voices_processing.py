"""The processed sample: what every cloning provider receives."""

from __future__ import annotations

import hashlib
import io
import wave

import pytest

from chorus_router.voices.processing import process
from chorus_router.voices.settings import VoiceSettings
from chorus_router.voices.validation import validate_audio
from support.voice_samples import sample


def test_stereo_44k_mp3_becomes_mono_16_bit_wav_at_the_reference_rate() -> None:
    audio = validate_audio(sample("mp3", seconds=5.0, channels=2), VoiceSettings(), "file")
    processed = process(audio, 24_000)
    with wave.open(io.BytesIO(processed.wav)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 24_000)
        assert wav.getnframes() / 24_000 == pytest.approx(5.0, abs=0.05)
    assert processed.duration_s == pytest.approx(5.0, abs=0.05)
    assert processed.sha256 == hashlib.sha256(processed.wav).hexdigest()


def test_the_same_recording_always_gives_the_same_hash() -> None:
    settings = VoiceSettings()
    one = process(validate_audio(sample("flac", pitch=150.0), settings, "f"), 16_000)
    two = process(validate_audio(sample("flac", pitch=150.0), settings, "f"), 16_000)
    other = process(validate_audio(sample("flac", pitch=151.0), settings, "f"), 16_000)
    assert one.sha256 == two.sha256 != other.sha256
