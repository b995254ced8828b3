"""A request's voice reference, as Dia's processor takes it: mono float at the codec's rate."""

from __future__ import annotations

import base64
import binascii

import numpy as np
import numpy.typing as npt

from chorus_audio import Resampler
from chorus_audio.decode import UndecodableAudio, decode_audio
from chorus_contracts import InvalidAudio, InvalidRequest

# The router sends at most a minute of 24 kHz 16-bit mono (under 3 MB); this leaves room for
# other rates without letting one request hold an unbounded buffer.
MAX_REFERENCE_BYTES = 16 * 1024 * 1024
_MAX_ENCODED_CHARS = (MAX_REFERENCE_BYTES + 2) // 3 * 4


def decode_reference(encoded: str, sample_rate: int, max_seconds: float) -> npt.NDArray[np.float32]:
    """The WAV inside `voice_reference`, resampled to `sample_rate`; bad audio is a 400."""
    if len(encoded) > _MAX_ENCODED_CHARS:
        raise InvalidRequest(
            f"voice_reference is over {MAX_REFERENCE_BYTES // (1024 * 1024)} MiB",
            param="voice_reference",
        )
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidRequest(
            "voice_reference is not valid base64", param="voice_reference"
        ) from None
    if len(data) <= 44 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise InvalidAudio("voice_reference is not a WAV file", param="voice_reference")
    try:
        audio = decode_audio(data)
    except UndecodableAudio as exc:
        raise InvalidAudio(f"voice_reference: {exc}", param="voice_reference") from None
    if audio.duration_s > max_seconds:
        raise InvalidAudio(
            f"voice_reference is {audio.duration_s:.1f}s; Dia takes at most {max_seconds:g}s",
            param="voice_reference",
        )
    if audio.sample_rate == sample_rate:
        return audio.samples
    pcm = (np.clip(audio.samples, -1, 1) * 32767).astype("<i2").tobytes()
    resampler = Resampler(audio.sample_rate, sample_rate)
    out = resampler.process(pcm) + resampler.flush()
    return (np.frombuffer(out, dtype="<i2") / 32768.0).astype(np.float32)
