"""G.711 μ-law: telephony's 8-bit samples (ElevenLabs' `ulaw_8000`, Twilio media streams)."""

from __future__ import annotations

import numpy as np

# On 14-bit magnitudes, as the reference implementation (Sun's g711.c) works.
_BIAS = 0x21
_CLIP = 8159


def pcm_to_ulaw(pcm: bytes) -> bytes:
    """s16le samples (whole ones) as μ-law bytes, one per sample."""
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.int32) >> 2
    sign = np.where(samples < 0, 0x80, 0)
    magnitude = np.minimum(np.abs(samples), _CLIP) + _BIAS
    # The segment is where the magnitude's highest bit is, from bit 5 (0) to bit 12 (7).
    exponent = np.floor(np.log2(magnitude)).astype(np.int32) - 5
    mantissa = (magnitude >> (exponent + 1)) & 0x0F
    # Past the top segment (full scale): the loudest code.
    loudest = exponent > 7
    exponent[loudest], mantissa[loudest] = 7, 0x0F
    codes: bytes = (~(sign | (exponent << 4) | mantissa) & 0xFF).astype(np.uint8).tobytes()
    return codes
