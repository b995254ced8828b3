"""The streaming cadence: audio leaves in pieces of about 200 ms as soon as they exist.

Engines make audio a sentence at a time; sent as one burst, a 5 s sentence arrives as a few
network reads, and an SSE client gets a handful of large deltas. Cut into 200 ms slices, a
player can start on the first slice and buffer evenly.
"""

from __future__ import annotations

from collections.abc import Iterator

CADENCE_S = 0.2
_SAMPLE_WIDTH = 2


def slices(pcm: bytes, sample_rate: int, seconds: float = CADENCE_S) -> Iterator[bytes]:
    """`pcm` (s16le mono) in slices of `seconds`, whole samples each; the last may be
    shorter, and a tail of at most half the cadence joins the one before it."""
    step = max(1, round(sample_rate * seconds)) * _SAMPLE_WIDTH
    start = 0
    while len(pcm) - start > step + step // 2:
        yield pcm[start : start + step]
        start += step
    if start < len(pcm):
        yield pcm[start:]
