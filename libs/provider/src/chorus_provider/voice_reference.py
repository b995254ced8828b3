"""A request's `voice_reference`: base64 of the WAV the router validated, bounded here too."""

from __future__ import annotations

import base64
import binascii

from chorus_contracts import InvalidRequest

# The router sends at most a minute of 24 kHz 16-bit mono (under 3 MB); this leaves room for
# other rates without letting one request hold an unbounded buffer.
MAX_REFERENCE_BYTES = 16 * 1024 * 1024
_MAX_ENCODED_CHARS = (MAX_REFERENCE_BYTES + 2) // 3 * 4


def reference_wav(encoded: str) -> bytes:
    """The WAV inside `voice_reference`; anything else is the client's error (400)."""
    if len(encoded) > _MAX_ENCODED_CHARS:
        raise InvalidRequest(
            f"voice_reference is over {MAX_REFERENCE_BYTES // (1024 * 1024)} MiB",
            param="voice_reference",
        )
    try:
        wav = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidRequest(
            "voice_reference is not valid base64", param="voice_reference"
        ) from None
    if len(wav) <= 44 or wav[:4] != b"RIFF" or wav[8:12] != b"WAVE":
        raise InvalidRequest("voice_reference is not a WAV file", param="voice_reference")
    return wav
