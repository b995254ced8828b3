"""PCM shaped to a segment's markup: exact silences at breaks, and volume.

An engine ends each utterance with some silence of its own, and starts the next with a
little more; left in place, a `<break time="1s"/>` would be heard as a second plus both.
So around a break the engine's own edge silence is cut (all but a few milliseconds, so
no decaying sound is clipped) and the break is exactly the silence that is added.
"""

from __future__ import annotations

import numpy as np

from chorus_contracts import SpeechSegment, WordTimestamp

# Quieter than this (about -40 dBFS) is silence at an utterance's edge.
_SILENT = 330
# What is kept of an edge's silence, so a fading sound ends as it was made.
_KEEP_S = 0.01


def silence(seconds: float, sample_rate: int) -> bytes:
    return bytes(2 * round(seconds * sample_rate))


def trimmed(pcm: bytes, sample_rate: int, *, start: bool, end: bool) -> tuple[bytes, float]:
    """`pcm` without the silence at its start and/or end, and the seconds cut from its
    start (word timings move by that much)."""
    samples = np.frombuffer(pcm, dtype="<i2")
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > _SILENT)
    if not len(loud):
        return (b"", len(samples) / sample_rate) if start else (pcm, 0.0)
    keep = round(_KEEP_S * sample_rate)
    first = max(int(loud[0]) - keep, 0) if start else 0
    last = min(int(loud[-1]) + keep + 1, len(samples)) if end else len(samples)
    return samples[first:last].tobytes(), first / sample_rate


def with_gain(pcm: bytes, decibels: float) -> bytes:
    """`pcm` louder or softer by `decibels`, clipped to the sample range."""
    if not decibels:
        return pcm
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32) * 10 ** (decibels / 20)
    return bytes(np.clip(samples, -32768, 32767).astype("<i2").tobytes())


def shaped(
    pcm: bytes,
    words: list[WordTimestamp],
    rate: int,
    segment: SpeechSegment,
    *,
    start: bool,
    end: bool,
) -> tuple[bytes, list[WordTimestamp]]:
    """A piece's PCM at its segment's volume, its edge silence cut at a segment's `start`
    and `end`, with its word timings moved to match."""
    if start or end:
        pcm, cut = trimmed(pcm, rate, start=start, end=end)
        words = _shifted(words, cut, len(pcm) / 2 / rate)
    return with_gain(pcm, segment.volume_db), words


def _shifted(words: list[WordTimestamp], by: float, length: float) -> list[WordTimestamp]:
    """Word timings of audio whose first `by` seconds were cut, `length` seconds long now:
    none ends past the audio's end (a model's predicted durations may run into the silence
    cut from it), so a mark or the next segment never comes before the word ends."""
    if not words:
        return words
    return [
        WordTimestamp(
            word=w.word,
            start_time=min(max(w.start_time - by, 0.0), length),
            end_time=min(max(w.end_time - by, 0.0), length),
        )
        for w in words
    ]
