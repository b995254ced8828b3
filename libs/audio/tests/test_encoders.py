import struct
from collections.abc import Callable

import numpy as np
import pytest

from chorus_audio import (
    OUTPUT_SAMPLE_RATE,
    AudioFormat,
    decode_audio,
    finalize_wav,
    open_encoder,
    wav_header,
)

CHUNK = 1001  # odd on purpose: chunks split samples
SR = OUTPUT_SAMPLE_RATE

# Decoded length minus input length, in 24 kHz samples (half-open range). Streamed output has
# no gapless metadata for mp3 (the Xing/LAME tag needs a seek back) nor for ADTS aac, so the
# codec's priming delay plus padding to a whole frame stay in the decoded audio:
#   mp3: 576-sample frames, 1152 samples of delay -> [1152, 1728)  = 48..72 ms
#   aac: 1024-sample frames, 1024 of priming      -> [1024, 2048)  = 43..85 ms
# Opus trims both ends itself (OpusHead pre-skip + final granule position); wav/pcm/flac are
# exact. One sample of slack on each side covers resampler rounding.
EXTRA_SAMPLES: dict[AudioFormat, tuple[int, int]] = {
    AudioFormat.MP3: (1152, 1728),
    AudioFormat.AAC: (1024, 2048),
    AudioFormat.OPUS: (0, 1),
    AudioFormat.FLAC: (0, 1),
    AudioFormat.WAV: (0, 1),
    AudioFormat.PCM: (0, 1),
}

PcmFactory = Callable[[int, float], bytes]
TONE_HZ = 440.0  # the conftest make_pcm tone


def _stream(fmt: AudioFormat, pcm: bytes, in_rate: int) -> list[bytes]:
    """Every encode() result in order, with finish()'s tail last."""
    encoder = open_encoder(fmt, in_rate)
    parts = [encoder.encode(pcm[i : i + CHUNK]) for i in range(0, len(pcm), CHUNK)]
    return [*parts, encoder.finish()]


def _decode(fmt: AudioFormat, data: bytes) -> tuple[np.ndarray, float]:
    if fmt is AudioFormat.PCM:
        return np.frombuffer(data, "<i2").astype(np.float32) / 32768, float(SR)
    decoded = decode_audio(data)
    assert decoded.channels == 1
    # FFmpeg's Opus decoder always outputs 48 kHz; the stream's own rate is checked below.
    assert decoded.sample_rate == (48_000 if fmt is AudioFormat.OPUS else SR)
    return decoded.samples, float(decoded.sample_rate)


@pytest.mark.parametrize("fmt", list(AudioFormat))
@pytest.mark.parametrize("in_rate", [22050, 16000, 24000])
@pytest.mark.parametrize("seconds", [0.37, 1.0, 3.0113])
def test_duration_rate_and_signal(
    fmt: AudioFormat, in_rate: int, seconds: float, make_pcm: PcmFactory
) -> None:
    pcm = make_pcm(in_rate, seconds)
    samples, rate = _decode(fmt, b"".join(_stream(fmt, pcm, in_rate)))

    input_s = len(pcm) / 2 / in_rate
    extra = (len(samples) / rate - input_s) * SR
    low, high = EXTRA_SAMPLES[fmt]
    assert low - 1 <= extra < high + 1, f"{fmt}: {extra:.1f} extra samples"

    # Energy, not RMS: the silent priming of mp3/aac must not dilute the comparison.
    reference = np.frombuffer(pcm, "<i2").astype(np.float64) / 32768
    energy_in = float(np.sum(reference**2)) / in_rate
    energy_out = float(np.sum(samples.astype(np.float64) ** 2)) / rate
    assert energy_out == pytest.approx(energy_in, rel=0.15)
    spectrum = np.abs(np.fft.rfft(samples))
    assert np.argmax(spectrum) * rate / len(samples) == pytest.approx(TONE_HZ, abs=4)


@pytest.mark.parametrize("fmt", list(AudioFormat))
def test_output_is_incremental(fmt: AudioFormat, make_pcm: PcmFactory) -> None:
    in_rate = 22050
    pcm = make_pcm(in_rate, 3.0)
    parts = _stream(fmt, pcm, in_rate)
    total = sum(map(len, parts))
    two_seconds = 2 * in_rate * 2 // CHUNK
    early = sum(map(len, parts[:two_seconds]))
    # Two thirds of the audio went in; most of its bytes must already be out.
    assert early >= 0.5 * total, f"{fmt}: {early} of {total} bytes after 2 s"
    assert sum(1 for p in parts[:two_seconds] if p) >= 5  # many small pieces, not one burst


def test_opus_stream_is_24khz_mono_ogg(make_pcm: PcmFactory) -> None:
    data = b"".join(_stream(AudioFormat.OPUS, make_pcm(24000, 1.0), 24000))
    assert data.startswith(b"OggS")
    head = data.index(b"OpusHead")
    _version, channels, _pre_skip, input_rate = struct.unpack_from("<BBHI", data, head + 8)
    assert (channels, input_rate) == (1, SR)


@pytest.mark.parametrize(
    ("fmt", "magic"),
    [
        (AudioFormat.MP3, (b"ID3", b"\xff\xf3")),  # ID3v2 tag, or an MPEG-2 layer III frame
        (AudioFormat.AAC, (b"\xff\xf1",)),  # ADTS sync word, MPEG-4
        (AudioFormat.FLAC, (b"fLaC",)),
    ],
)
def test_containers(fmt: AudioFormat, magic: tuple[bytes, ...], make_pcm: PcmFactory) -> None:
    data = b"".join(_stream(fmt, make_pcm(24000, 0.5), 24000))
    assert data.startswith(magic)
    assert decode_audio(data).format_name == {"mp3": "mp3", "aac": "aac", "flac": "flac"}[fmt]


def test_flac_and_wav_are_lossless(make_pcm: PcmFactory) -> None:
    pcm = make_pcm(22050, 1.5)
    raw = np.frombuffer(b"".join(_stream(AudioFormat.PCM, pcm, 22050)), "<i2") / 32768
    for fmt in (AudioFormat.FLAC, AudioFormat.WAV):
        decoded = decode_audio(b"".join(_stream(fmt, pcm, 22050)))
        np.testing.assert_array_equal(decoded.samples, raw.astype(np.float32))


def test_wav_header_is_openai_streaming_header(make_pcm: PcmFactory) -> None:
    parts = _stream(AudioFormat.WAV, make_pcm(22050, 1.0), 22050)
    first = next(p for p in parts if p)
    riff, riff_size, wave = struct.unpack_from("<4sI4s", first, 0)
    fmt_id, fmt_size, codec, channels, rate, byte_rate, align, bits = struct.unpack_from(
        "<4sIHHIIHH", first, 12
    )
    data_id, data_size = struct.unpack_from("<4sI", first, 36)
    assert (riff, wave, fmt_id, data_id) == (b"RIFF", b"WAVE", b"fmt ", b"data")
    assert (fmt_size, codec, channels, rate, bits) == (16, 1, 1, SR, 16)
    assert (byte_rate, align) == (SR * 2, 2)
    assert riff_size == data_size == 0xFFFFFFFF
    assert first[:44] == wav_header()
    assert sum(p.count(b"RIFF") for p in parts) == 1  # the header is sent once


def test_streamed_wav_decodes_and_finalize_fixes_sizes(make_pcm: PcmFactory) -> None:
    data = b"".join(_stream(AudioFormat.WAV, make_pcm(24000, 1.0), 24000))
    assert decode_audio(data).duration_s == pytest.approx(1.0, abs=1 / SR)
    fixed = finalize_wav(data)
    assert len(fixed) == len(data) == 44 + 48_000
    assert struct.unpack_from("<I", fixed, 4)[0] == len(data) - 8
    assert struct.unpack_from("<I", fixed, 40)[0] == 48_000
    assert fixed[44:] == data[44:]
    assert decode_audio(fixed).duration_s == pytest.approx(1.0, abs=1 / SR)


def test_finalize_wav_rejects_other_data() -> None:
    with pytest.raises(ValueError, match="RIFF"):
        finalize_wav(b"ID3\x04" + bytes(100))
    with pytest.raises(ValueError, match="data chunk"):
        finalize_wav(wav_header()[:36])


@pytest.mark.parametrize("fmt", list(AudioFormat))
def test_misuse_is_an_error(fmt: AudioFormat) -> None:
    encoder = open_encoder(fmt, 22050)
    encoder.encode(b"\x00")
    with pytest.raises(ValueError, match="odd byte count"):
        encoder.finish()
    with pytest.raises(RuntimeError):
        encoder.encode(b"\x00\x00")
    with pytest.raises(RuntimeError):
        encoder.finish()


@pytest.mark.parametrize("fmt", list(AudioFormat))
def test_close_abandons_the_stream(fmt: AudioFormat, make_pcm: PcmFactory) -> None:
    encoder = open_encoder(fmt, 22050)
    encoder.encode(make_pcm(22050, 0.5))
    encoder.close()
    encoder.close()
    with pytest.raises(RuntimeError):
        encoder.finish()


def test_unknown_format_is_an_error() -> None:
    with pytest.raises(ValueError, match="ogg"):
        open_encoder("ogg", 24000)


@pytest.mark.parametrize("fmt", [AudioFormat.PCM, AudioFormat.WAV, AudioFormat.MP3])
@pytest.mark.parametrize("out_rate", [8000, 16_000, 44_100])
def test_another_output_rate(fmt: AudioFormat, out_rate: int, make_pcm: PcmFactory) -> None:
    encoder = open_encoder(fmt, 22050, out_rate)
    data = encoder.encode(make_pcm(22050, 1.0)) + encoder.finish()
    if fmt is AudioFormat.PCM:
        assert len(data) == pytest.approx(2 * out_rate, abs=4)
        return
    decoded = decode_audio(data)
    assert decoded.sample_rate == out_rate
    # mp3 keeps its priming and last-frame padding (see EXTRA_SAMPLES): under 0.25 s.
    assert 1.0 <= decoded.duration_s < 1.25
    spectrum = np.abs(np.fft.rfft(decoded.samples))
    assert np.argmax(spectrum) * out_rate / len(decoded.samples) == pytest.approx(TONE_HZ, abs=4)
