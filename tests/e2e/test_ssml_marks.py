"""SSML `<mark>`s end to end through the OpenAI SDK: each mark's name arrives in the SSE
timestamp events and the captions at the time it falls, on espeak-ng, Piper and Kokoro."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from openai import OpenAI

pytestmark = pytest.mark.e2e

SSML = (
    '<speak>The quick brown fox <mark name="leap"/>jumps over the lazy dog. <break time="300ms"/>'
    '<mark name="after the break"/>Then it sleeps.<mark name="end"/></speak>'
)
# Words and marks are timed to the millisecond, from different rounding.
_SLACK_S = 0.002


def _events(client: OpenAI, model: str) -> list[dict[str, Any]]:
    with client.audio.speech.with_streaming_response.create(
        model=model,
        voice="alloy",
        input=SSML,
        response_format="pcm",
        stream_format="sse",
        extra_body={"timestamps": "word"},
    ) as response:
        lines = [line for line in response.iter_lines() if line.startswith("data: ")]
    return [json.loads(line.removeprefix("data: ")) for line in lines]


@pytest.mark.parametrize("model", ["espeak", "piper", "kokoro"])
def test_marks_arrive_in_the_timestamp_events_where_they_fall(client: OpenAI, model: str) -> None:
    events = _events(client, model)
    assert events[-1]["type"] == "speech.audio.done", events[-1]
    timed = [e for e in events if e["type"] == "speech.audio.timestamps"]
    words = [w for e in timed for w in e["timestamps"]]
    marks = {m["name"]: m["time"] for e in timed for m in e.get("marks", [])}
    assert list(marks) == ["leap", "after the break", "end"]
    said = [w["word"] for w in words]
    assert " ".join(said) == "The quick brown fox jumps over the lazy dog Then it sleeps"
    fox, jumps, dog, then = (words[said.index(w)] for w in ("fox", "jumps", "dog", "Then"))
    # A mark falls after the words before it and where the words after it start.
    assert fox["end_time"] - _SLACK_S <= marks["leap"] <= jumps["start_time"] + _SLACK_S
    # After the break: the 300 ms of silence come before the mark, not after it.
    assert marks["after the break"] >= dog["end_time"] + 0.3 - _SLACK_S
    assert marks["after the break"] <= then["start_time"] + _SLACK_S
    assert marks["end"] >= words[-1]["end_time"] - _SLACK_S


def test_captions_name_the_cue_each_mark_starts(client: OpenAI) -> None:
    response = client.post(
        "/audio/captioned_speech",
        body={"model": "kokoro", "voice": "alloy", "input": SSML, "caption_format": "vtt"},
        cast_to=httpx.Response,
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert [m["name"] for m in answer["marks"]] == ["leap", "after the break", "end"]
    vtt = answer["captions"]
    assert re.search(r"\nleap\n[\d:.]+ --> [\d:.]+\njumps over", vtt), vtt
    assert re.search(r"\nafter the break\n[\d:.]+ --> [\d:.]+\nThen it sleeps", vtt), vtt
    assert re.search(r"\nNOTE mark end at [\d:.]+\n", vtt), vtt
