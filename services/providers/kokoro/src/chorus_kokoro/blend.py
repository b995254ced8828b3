"""Voice blends: `jf_alpha(2)+jm_kumo(1)` speaks with the weighted mean of two style tables.

Weights are relative (they need not sum to 1); a voice without a weight counts once.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from chorus_contracts import InvalidRequest, UnknownVoice

MAX_BLEND_PARTS = 8
_PART = re.compile(r"^\s*([A-Za-z0-9_.-]+)\s*(?:\(\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*\))?\s*$")

Style = npt.NDArray[np.float32]


@dataclass(frozen=True)
class BlendPart:
    voice: str
    weight: float


def parse_voice(spec: str) -> list[BlendPart]:
    """A voice id, or `id(weight)+id(weight)...`; anything else is a 400 naming the field."""
    pieces = spec.split("+")
    if len(pieces) > MAX_BLEND_PARTS:
        raise InvalidRequest(f"a voice blend takes at most {MAX_BLEND_PARTS} voices", param="voice")
    parts = []
    for piece in pieces:
        match = _PART.match(piece)
        if match is None:
            raise InvalidRequest(
                f"voice '{spec}' is neither a voice id nor a blend like 'jf_alpha(2)+jm_kumo(1)'",
                param="voice",
            )
        weight = float(match.group(2)) if match.group(2) else 1.0
        if not (weight > 0 and math.isfinite(weight)):
            raise InvalidRequest(
                f"voice blend '{spec}': every weight must be above zero", param="voice"
            )
        parts.append(BlendPart(match.group(1), weight))
    return parts


def blend_style(styles: Mapping[str, Style], parts: Sequence[BlendPart]) -> Style:
    """The weighted mean of the parts' style tables (one voice: its own table, unchanged)."""
    for part in parts:
        if part.voice not in styles:
            raise UnknownVoice(f"Kokoro has no voice '{part.voice}'", param="voice")
    if len(parts) == 1:
        return styles[parts[0].voice]
    total = sum(part.weight for part in parts)
    mixed = sum(styles[part.voice] * (part.weight / total) for part in parts)
    return np.asarray(mixed, dtype=np.float32)
