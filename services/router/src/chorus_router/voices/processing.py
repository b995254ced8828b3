"""The form cloning providers receive: a mono 16-bit WAV at one fixed rate, and its hash.

One canonical form means providers never meet odd codecs, and the hash of its bytes names the
sample, so a provider can cache what it derives from it (a vendor voice id) per hash.
"""

from __future__ import annotations

import hashlib
import io
import wave
from dataclasses import dataclass

import numpy as np

from chorus_audio import Resampler
from chorus_router.voices.validation import ValidatedAudio


@dataclass(frozen=True)
class ProcessedSample:
    wav: bytes
    sample_rate: int
    duration_s: float
    sha256: str


def process(audio: ValidatedAudio, sample_rate: int) -> ProcessedSample:
    """Mono s16 at `sample_rate`, peak-limited to full scale, wrapped in a RIFF/WAVE file."""
    clipped = np.clip(audio.samples, -1.0, 1.0)
    pcm = (clipped * 32767.0).astype("<i2").tobytes()
    resampler = Resampler(audio.sample_rate, sample_rate)
    converted = resampler.process(pcm) + resampler.flush()
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(converted)
    data = out.getvalue()
    return ProcessedSample(
        wav=data,
        sample_rate=sample_rate,
        duration_s=len(converted) / 2 / sample_rate,
        sha256=hashlib.sha256(data).hexdigest(),
    )
