"""Decode any audio file FFmpeg can recognise, for tests and upload validation."""

import io
from dataclasses import dataclass

import av
import numpy as np
import numpy.typing as npt
from av.container import InputContainer


class UndecodableAudio(ValueError):
    """The bytes are empty, not audio, or too corrupt to decode."""


@dataclass(frozen=True)
class DecodedAudio:
    """A whole decoded file, mixed down to mono float32 in [-1, 1]."""

    samples: npt.NDArray[np.float32]
    sample_rate: int
    channels: int  # in the source, before the mixdown
    format_name: str
    duration_s: float


def decode_audio(data: bytes) -> DecodedAudio:
    """Detect the container from the bytes themselves and decode its first audio stream.

    Headerless PCM cannot be detected; callers holding raw s16le should use numpy directly.
    """
    if not data:
        raise UndecodableAudio("no audio data")
    try:
        container = av.open(io.BytesIO(data), mode="r")
        try:
            return _decode(container)
        finally:
            container.close()
    except UndecodableAudio:
        raise
    except (av.FFmpegError, ValueError) as exc:
        raise UndecodableAudio(f"cannot decode audio: {exc}") from exc


def _decode(container: InputContainer) -> DecodedAudio:
    if not container.streams.audio:
        raise UndecodableAudio(f"no audio stream in {container.format.name} data")
    stream = container.streams.audio[0]
    # Planar float at the first frame's rate: one row per channel, averaged into mono below.
    resampler = av.AudioResampler(format="fltp")
    planes: list[npt.NDArray[np.float32]] = []
    rate = 0

    def collect(frames: list[av.AudioFrame]) -> None:
        nonlocal rate
        for out in frames:
            rate = out.sample_rate
            planes.append(out.to_ndarray().astype(np.float32).mean(axis=0))

    for frame in container.decode(stream):
        collect(resampler.resample(frame))
    collect(resampler.resample(None))
    if not planes or rate <= 0:
        raise UndecodableAudio(f"no audio frames could be decoded from {container.format.name}")
    samples = np.concatenate(planes).astype(np.float32, copy=False)
    return DecodedAudio(
        samples=samples,
        sample_rate=rate,
        channels=stream.channels,
        format_name=container.format.name,
        duration_s=len(samples) / rate,
    )
