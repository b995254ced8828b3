import io
import struct
from collections.abc import Callable

import av
import numpy as np
import pytest

from chorus_audio import UndecodableAudio, decode_audio

PcmFactory = Callable[[int, float], bytes]


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not audio at all",
        bytes(5000),
        b"RIFF\xff\xff\xff\xffWAVE",
        b"OggS" + bytes(100),
        np.random.default_rng(7).integers(0, 256, 20_000, dtype=np.uint8).tobytes(),
    ],
)
def test_rejects_garbage(data: bytes) -> None:
    with pytest.raises(UndecodableAudio):
        decode_audio(data)
    assert issubclass(UndecodableAudio, ValueError)


def test_mixes_stereo_down_to_mono(make_pcm: PcmFactory) -> None:
    left = np.frombuffer(make_pcm(16000, 0.5), "<i2")
    right = np.zeros_like(left)
    interleaved = np.stack([left, right], axis=1).astype("<i2").tobytes()
    header = struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        *(b"RIFF", 36 + len(interleaved), b"WAVE", b"fmt ", 16, 1, 2, 16000, 64000, 4, 16),
        *(b"data", len(interleaved)),
    )
    decoded = decode_audio(header + interleaved)
    assert (decoded.channels, decoded.sample_rate, decoded.format_name) == (2, 16000, "wav")
    assert decoded.samples.dtype == np.float32
    assert decoded.samples.ndim == 1
    assert decoded.duration_s == pytest.approx(0.5)
    np.testing.assert_allclose(decoded.samples, left / 32768 / 2, atol=1e-6)


def test_decodes_other_containers(make_pcm: PcmFactory) -> None:
    """Uploads may come in any container FFmpeg knows, e.g. stereo AAC in MP4 at 44.1 kHz."""
    sink = io.BytesIO()
    with av.open(sink, "w", format="mp4") as container:
        stream = container.add_stream("aac", rate=44100)
        stream.layout = "stereo"
        pcm = np.frombuffer(make_pcm(44100, 1.0), "<i2")
        frame = av.AudioFrame.from_ndarray(
            np.stack([pcm, pcm], axis=1).reshape(1, -1), format="s16", layout="stereo"
        )
        frame.sample_rate = 44100
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    decoded = decode_audio(sink.getvalue())
    assert (decoded.channels, decoded.sample_rate) == (2, 44100)
    assert "mp4" in decoded.format_name
    assert 1.0 <= decoded.duration_s < 1.0 + 2048 / 44100  # AAC priming + last-frame padding
    spectrum = np.abs(np.fft.rfft(decoded.samples))
    assert np.argmax(spectrum) * 44100 / len(decoded.samples) == pytest.approx(440, abs=2)
