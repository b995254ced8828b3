"""The output formats OpenAI's speech endpoint offers, and their HTTP content types."""

from enum import StrEnum

OUTPUT_SAMPLE_RATE = 24_000
"""OpenAI's speech output is always 24 kHz mono; the encoders emit that rate unless asked."""


class AudioFormat(StrEnum):
    """Values of OpenAI's `response_format`."""

    MP3 = "mp3"
    OPUS = "opus"
    AAC = "aac"
    FLAC = "flac"
    WAV = "wav"
    PCM = "pcm"


_CONTENT_TYPES: dict[AudioFormat, str] = {
    AudioFormat.MP3: "audio/mpeg",
    AudioFormat.OPUS: "audio/ogg",  # Opus packets in an Ogg container (RFC 7845).
    AudioFormat.AAC: "audio/aac",  # ADTS stream.
    AudioFormat.FLAC: "audio/flac",
    AudioFormat.WAV: "audio/wav",
    AudioFormat.PCM: "audio/pcm",  # Headerless s16le, 24 kHz, mono.
}


def content_type(fmt: AudioFormat | str) -> str:
    """Return the Content-Type for a response in `fmt`; raises ValueError for unknown formats."""
    return _CONTENT_TYPES[AudioFormat(fmt)]
