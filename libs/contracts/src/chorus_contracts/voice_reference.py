"""A request's `voice_reference`, decoded the same way where a client sends it (the router)
and where the router passes it on (providers)."""

from __future__ import annotations

import base64
import binascii

from chorus_contracts.errors import InvalidRequest
from chorus_contracts.speech import MAX_VOICE_REFERENCE_CHARS

_MAX_MIB = MAX_VOICE_REFERENCE_CHARS // 4 * 3 // (1024 * 1024)


def decode_voice_reference(encoded: str) -> bytes:
    """The audio file inside `voice_reference`; too long or not base64 is the client's 400."""
    if len(encoded) > MAX_VOICE_REFERENCE_CHARS:
        raise InvalidRequest(
            f"voice_reference is over {_MAX_MIB} MiB of audio", param="voice_reference"
        )
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidRequest(
            "voice_reference must be an audio file's bytes in base64 (standard alphabet, "
            "padded with '=')",
            param="voice_reference",
        ) from None
