"""A request's `voice_reference` as providers take it: the WAV the router validated."""

from __future__ import annotations

from chorus_contracts import InvalidRequest, decode_voice_reference


def reference_wav(encoded: str) -> bytes:
    """The WAV inside `voice_reference`; anything else is the client's error (400)."""
    wav = decode_voice_reference(encoded)
    if len(wav) <= 44 or wav[:4] != b"RIFF" or wav[8:12] != b"WAVE":
        raise InvalidRequest("voice_reference is not a WAV file", param="voice_reference")
    return wav
