"""Upload validation: what is accepted, and the reason given for each refusal."""

from __future__ import annotations

import io
import wave

import numpy as np
import pytest

from chorus_contracts import InvalidAudio, InvalidRequest, PayloadTooLarge
from chorus_router.voices.settings import VoiceSettings
from chorus_router.voices.validation import clean_language, clean_name, validate_audio
from support.voice_samples import FORMATS, encode, sample, silent_flac, truncated_mp3

SETTINGS = VoiceSettings()


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_every_accepted_format_passes(fmt: str) -> None:
    audio = validate_audio(sample(fmt, seconds=4.0, channels=2), SETTINGS, "file")
    assert audio.channels == 2
    assert audio.duration_s == pytest.approx(4.0, abs=0.05)


def test_the_name_and_mime_type_do_not_matter_the_bytes_do() -> None:
    assert validate_audio(sample("flac"), SETTINGS, "file").container == "flac"


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "empty"),
        (b"plain text pretending to be a wav file\n" * 20, "not audio in an accepted format"),
        (b"%PDF-1.7\n" + b"x" * 5000, "not audio in an accepted format"),
        (truncated_mp3(), "truncated: it declares 6.0 s"),
        (sample("wav")[:100_000], "data chunk promises"),
        (sample("opus")[:20_000], "ogg stream ends"),
        (sample("webm")[:20_000], "truncated"),
        (sample("m4a")[:20_000], "cannot be decoded"),
        (sample("wav", seconds=2.0), "at least 3 s"),
        (sample("flac", seconds=61.0), "the longest accepted is 60 s"),
        (silent_flac(6.0), "silent"),
    ],
)
def test_refusals_say_why(data: bytes, words: str) -> None:
    with pytest.raises(InvalidAudio, match=words) as refused:
        validate_audio(data, SETTINGS, "audio_sample")
    assert refused.value.param == "audio_sample"
    assert refused.value.status == 400


def test_a_header_that_claims_hours_is_refused_before_decoding() -> None:
    with pytest.raises(InvalidAudio, match=r"7200\.0 s long"):
        validate_audio(silent_flac(2 * 3600), SETTINGS, "file")


def test_a_header_that_hides_the_length_cannot_make_decoding_unbounded() -> None:
    data = bytearray(silent_flac(90.0))
    # STREAMINFO's total-samples field (the low 36 bits at bytes 21..25) at 0 means "unknown".
    data[21] &= 0xF0
    data[22:26] = b"\0\0\0\0"
    with pytest.raises(InvalidAudio, match=r"is at least 60\.\d s long"):
        validate_audio(bytes(data), SETTINGS, "file")


def test_more_than_two_channels_are_refused() -> None:
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(3)
        wav.setsampwidth(2)
        wav.setframerate(16_000)
        wav.writeframes(np.full(16_000 * 4 * 3, 3000, dtype="<i2").tobytes())
    with pytest.raises(InvalidAudio, match="3 channels"):
        validate_audio(out.getvalue(), SETTINGS, "file")


def test_audio_far_smaller_than_its_length_allows_is_refused() -> None:
    # A constant level is loud yet compresses to almost nothing: no real recording does.
    steady = encode(np.full((1, 44_100 * 40), 0.5, dtype=np.float32), 44_100, "flac")
    with pytest.raises(InvalidAudio, match="far more than real recordings"):
        validate_audio(steady, SETTINGS, "file")


def test_a_file_mostly_not_audio_is_refused() -> None:
    good = sample("wav", seconds=3.5, pitch=200.0)
    # A 3 MB chunk of something else before the audio: the size no longer fits the length.
    padding = b"junk" + (3_000_000).to_bytes(4, "little") + b"\0" * 3_000_000
    padded = good[:12] + padding + good[12:]
    with pytest.raises(InvalidAudio, match="the rest is not audio"):
        validate_audio(padded, SETTINGS, "file")


def test_size_limit() -> None:
    small = VoiceSettings(max_upload_bytes=50_000)
    with pytest.raises(PayloadTooLarge, match="limit is 50000"):
        validate_audio(sample("wav"), small, "file")


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("../../etc/passwd", "path separators"),
        ("a\\b", "path separators"),
        ("..", "only dots"),
        ("bell\x07", "control characters"),
        ("rtl\u202eevil", "control characters"),
        ("   ", "must not be empty"),
        ("x" * 101, "at most 100"),
    ],
)
def test_bad_names_are_refused(name: str, words: str) -> None:
    with pytest.raises(InvalidRequest, match=words):
        clean_name(name)


def test_good_names_are_trimmed_and_normalized() -> None:
    assert clean_name("  Zoë's voice ") == "Zoë's voice"
    assert clean_name("Cafe\u0301") == "Café"


def test_language_tags() -> None:
    assert clean_language("en-US") == "en-US"
    with pytest.raises(InvalidRequest, match="BCP 47"):
        clean_language("english please")
