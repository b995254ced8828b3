"""A request's voice reference as models take it: mono float32 at the model's sample rate."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from chorus_audio import Resampler
from chorus_audio.decode import UndecodableAudio, decode_audio
from chorus_contracts import InvalidAudio
from chorus_provider.voice_reference import reference_wav


def reference_audio(encoded: str, sample_rate: int, max_seconds: float) -> npt.NDArray[np.float32]:
    """The sample inside `voice_reference`, resampled to `sample_rate`; bad audio is a 400."""
    try:
        audio = decode_audio(reference_wav(encoded))
    except UndecodableAudio as exc:
        raise InvalidAudio(f"voice_reference: {exc}", param="voice_reference") from None
    if audio.duration_s > max_seconds:
        raise InvalidAudio(
            f"voice_reference is {audio.duration_s:.1f}s; this model takes at most "
            f"{max_seconds:g}s",
            param="voice_reference",
        )
    if audio.sample_rate == sample_rate:
        return audio.samples
    pcm = (np.clip(audio.samples, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()
    resampler = Resampler(audio.sample_rate, sample_rate)
    resampled = resampler.process(pcm) + resampler.flush()
    return (np.frombuffer(resampled, dtype="<i2") / 32768.0).astype(np.float32)
