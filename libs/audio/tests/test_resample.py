import numpy as np
import pytest

from chorus_audio import Resampler


def _tone(rate: int, seconds: float) -> bytes:
    t = np.arange(round(rate * seconds)) / rate
    return np.round(np.sin(2 * np.pi * 440 * t) * 10_000).astype("<i2").tobytes()


def _run(resampler: Resampler, pcm: bytes, chunk: int) -> bytes:
    out = [resampler.process(pcm[i : i + chunk]) for i in range(0, len(pcm), chunk)]
    return b"".join(out) + resampler.flush()


@pytest.mark.parametrize(
    ("in_rate", "out_rate"),
    [(22050, 24000), (16000, 24000), (44100, 24000), (48000, 24000), (8000, 24000)],
)
@pytest.mark.parametrize("chunk", [1001, 4096, 1])
def test_output_length_matches_rate_ratio(in_rate: int, out_rate: int, chunk: int) -> None:
    pcm = _tone(in_rate, 0.5 if chunk == 1 else 2.0)
    out = _run(Resampler(in_rate, out_rate), pcm, chunk)
    expected = len(pcm) // 2 * out_rate / in_rate
    assert len(out) % 2 == 0
    assert abs(len(out) // 2 - expected) <= 1


def test_equal_rates_pass_bytes_through() -> None:
    pcm = _tone(24000, 1.0)
    resampler = Resampler(24000, 24000)
    assert resampler.process(pcm[:1001]) == pcm[:1000]  # the odd byte waits for its partner
    assert resampler.process(pcm[1001:]) == pcm[1000:]
    assert resampler.flush() == b""


def test_odd_chunk_boundaries_do_not_change_the_output() -> None:
    pcm = _tone(22050, 1.0)
    whole = _run(Resampler(22050, 24000), pcm, len(pcm))
    for chunk in (1, 3, 1001, 4097):
        split = _run(Resampler(22050, 24000), pcm, chunk)
        assert len(split) == len(whole)
        a = np.frombuffer(split, "<i2").astype(np.int32)
        b = np.frombuffer(whole, "<i2").astype(np.int32)
        assert np.max(np.abs(a - b)) <= 1  # only float rounding may differ


def test_resampling_keeps_the_tone() -> None:
    out = np.frombuffer(_run(Resampler(16000, 24000), _tone(16000, 2.0), 1001), "<i2")
    spectrum = np.abs(np.fft.rfft(out))
    assert np.argmax(spectrum) * 24000 / len(out) == pytest.approx(440, abs=1)
    assert np.sqrt(np.mean((out / 10_000.0) ** 2)) == pytest.approx(np.sqrt(0.5), rel=0.02)


def test_half_sample_at_the_end_is_an_error() -> None:
    resampler = Resampler(22050, 24000)
    resampler.process(b"\x01\x02\x03")
    with pytest.raises(ValueError, match="odd byte count"):
        resampler.flush()


def test_misuse_is_an_error() -> None:
    with pytest.raises(ValueError, match="positive"):
        Resampler(0, 24000)
    resampler = Resampler(24000, 24000)
    resampler.flush()
    with pytest.raises(RuntimeError):
        resampler.process(b"\0\0")
    with pytest.raises(RuntimeError):
        resampler.flush()
