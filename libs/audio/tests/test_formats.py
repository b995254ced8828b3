import pytest

from chorus_audio import OUTPUT_SAMPLE_RATE, AudioFormat, content_type


def test_formats_match_openai_response_format() -> None:
    assert [f.value for f in AudioFormat] == ["mp3", "opus", "aac", "flac", "wav", "pcm"]
    assert OUTPUT_SAMPLE_RATE == 24_000


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("mp3", "audio/mpeg"),
        ("opus", "audio/ogg"),
        ("aac", "audio/aac"),
        ("flac", "audio/flac"),
        ("wav", "audio/wav"),
        ("pcm", "audio/pcm"),
    ],
)
def test_content_type(fmt: str, expected: str) -> None:
    assert content_type(AudioFormat(fmt)) == expected
    assert content_type(fmt) == expected


def test_content_type_rejects_unknown_format() -> None:
    with pytest.raises(ValueError, match="ogg"):
        content_type("ogg")
