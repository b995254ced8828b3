"""Recordings for voice-upload tests, made in memory with PyAV: good ones in every accepted
format, and the hostile ones (truncated, silent, too long, not audio at all)."""

from __future__ import annotations

import io

import av
import numpy as np
import numpy.typing as npt
from av.audio.stream import AudioStream

# (container, codec, file suffix) for each accepted format.
FORMATS = {
    "wav": ("wav", "pcm_s16le"),
    "mp3": ("mp3", "libmp3lame"),
    "flac": ("flac", "flac"),
    "ogg": ("ogg", "flac"),
    "opus": ("ogg", "libopus"),
    "m4a": ("ipod", "aac"),
    "webm": ("webm", "libopus"),
}
_OPUS_RATE = 48_000


def speechlike(
    seconds: float, rate: int, pitch: float = 180.0, channels: int = 1
) -> npt.NDArray[np.float32]:
    """Harmonics of `pitch` under a syllable-rate envelope: loud enough, never constant."""
    t = np.arange(int(seconds * rate)) / rate
    voice = sum(np.sin(2 * np.pi * pitch * k * t) / k for k in range(1, 6))
    envelope = 0.55 + 0.45 * np.sin(2 * np.pi * 3.0 * t)
    mono = (0.25 * voice * envelope).astype(np.float32)
    return np.tile(mono, (channels, 1))


def encode(
    samples: npt.NDArray[np.float32], rate: int, fmt: str = "wav", bit_rate: int | None = None
) -> bytes:
    """`samples` (channels x frames, float in [-1, 1]) as a complete file in `fmt`."""
    container_name, codec = FORMATS[fmt]
    if codec == "libopus":
        rate = _OPUS_RATE  # Opus runs at 48 kHz; callers pass audio made at that rate
    out = io.BytesIO()
    with av.open(out, mode="w", format=container_name) as container:
        stream = container.add_stream(codec, rate=rate)
        assert isinstance(stream, AudioStream)
        stream.layout = "stereo" if samples.shape[0] == 2 else "mono"
        if bit_rate is not None:
            stream.bit_rate = bit_rate
        _write(container, stream, samples, rate)
    return out.getvalue()


def _write(
    container: av.container.OutputContainer,
    stream: AudioStream,
    samples: npt.NDArray[np.float32],
    rate: int,
) -> None:
    stream.codec_context.open()
    size = stream.codec_context.frame_size or 4096
    planar = stream.format.is_planar
    kind = stream.format.name.rstrip("p")
    pts = 0
    for start in range(0, samples.shape[1], size):
        chunk = samples[:, start : start + size]
        data = chunk if planar else chunk.T.reshape(1, -1)
        if kind == "s16":
            data = (data * 32767).astype(np.int16)
        elif kind == "s32":
            data = (data * 2_147_483_000).astype(np.int32)
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(data), format=stream.format.name, layout=stream.layout.name
        )
        frame.sample_rate = rate
        frame.pts = pts
        pts += chunk.shape[1]
        container.mux(stream.encode(frame))
    container.mux(stream.encode(None))


def sample(
    fmt: str = "wav", seconds: float = 5.0, pitch: float = 180.0, channels: int = 1
) -> bytes:
    """A good upload: `seconds` of speech-like sound in `fmt`."""
    rate = _OPUS_RATE if FORMATS[fmt][1] == "libopus" else 44_100
    return encode(speechlike(seconds, rate, pitch, channels), rate, fmt)


def silent_flac(seconds: float, rate: int = 8_000) -> bytes:
    """Digital silence as FLAC: hours of it compress to a few hundred kilobytes."""
    return encode(np.zeros((1, int(seconds * rate)), dtype=np.float32), rate, "flac")


def truncated_mp3() -> bytes:
    """An mp3 whose Xing header promises 6 s, cut off after about half of its frames."""
    whole = sample("mp3", seconds=6.0)
    return whole[: len(whole) // 2]
