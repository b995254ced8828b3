"""Streamed audio leaves in pieces of about 200 ms, not one burst per sentence."""

from __future__ import annotations

import base64
import statistics

import pytest

from support.sse import sse_events
from support.stack import Stack

pytestmark = pytest.mark.e2e

# One long sentence: without the cadence it would leave as a few large bursts.
LONG_SENTENCE = (
    "The river ran past the mill and the old stone bridge and the fields of barley where the "
    "farmers worked from early morning until the light had gone from the western hills"
)


def test_sse_deltas_carry_about_200_ms_each(local_stack: Stack) -> None:
    body = {"model": "piper", "voice": "joe", "input": LONG_SENTENCE, "response_format": "pcm"}
    events = sse_events(f"{local_stack.base_url}/audio/speech", body)
    assert events[-1]["type"] == "speech.audio.done"
    seconds = [
        len(base64.b64decode(e["audio"])) / 2 / 24_000
        for e in events
        if e["type"] == "speech.audio.delta"
    ]
    assert sum(seconds) > 5, "a long sentence"
    assert len(seconds) >= sum(seconds) / 0.35
    # On average, not by the median: the streaming resampler hands out its output in blocks,
    # so 200 ms slices come out as 186 ms each, or as 149 and 223 ms in turn, and in a
    # stream of mostly the latter the median is 149 ms.
    assert 0.15 <= statistics.mean(seconds[:-1]) <= 0.25
    # Slices are 200 ms, a tail joins the slice before it; resampling moves a few samples.
    assert max(seconds) <= 0.31
