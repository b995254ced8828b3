"""Word timestamps end to end: captioned speech, SSE timestamp events, WebVTT and SRT."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import httpx
import pytest
from openai import OpenAI

from chorus_audio import decode_audio
from support.stack import Stack

pytestmark = pytest.mark.e2e

TEXT = "Well, the quick brown fox jumps over the lazy dog. Then it sleeps until three o'clock."
WORDS = [w.strip(",.") for w in TEXT.split()]


def _captioned(client: OpenAI, **body: Any) -> dict[str, Any]:
    """Through the OpenAI SDK's own request path, as a client of Kokoro-FastAPI does."""
    response = client.post(
        "/audio/captioned_speech",
        body={"voice": "alloy", "input": TEXT, **body},
        cast_to=httpx.Response,
    )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def _check_timeline(stamps: list[dict[str, Any]], seconds: float) -> None:
    assert [s["word"] for s in stamps] == WORDS, "one entry per word, in order"
    starts = [s["start_time"] for s in stamps]
    assert starts == sorted(starts), "monotonic"
    for stamp in stamps:
        assert 0 <= stamp["start_time"] < stamp["end_time"] <= seconds + 0.05, stamp
    # The second sentence starts after the first one ended.
    then = WORDS.index("Then")
    assert stamps[then]["start_time"] >= stamps[then - 1]["end_time"]


@pytest.mark.parametrize("model", ["kokoro", "espeak"])
def test_captioned_speech_times_every_word_inside_the_audio(client: OpenAI, model: str) -> None:
    body = _captioned(client, model=model, response_format="mp3")
    assert body["audio_format"] == body["format"] == "mp3"
    audio = decode_audio(base64.b64decode(body["audio"]))
    _check_timeline(body["timestamps"], audio.duration_s)


def test_captions_come_as_webvtt_and_srt(client: OpenAI) -> None:
    vtt = _captioned(client, model="espeak", caption_format="vtt")["captions"]
    assert vtt.startswith("WEBVTT\n\n")
    cues = re.findall(r"(\d\d:\d\d:\d\d\.\d{3}) --> (\d\d:\d\d:\d\d\.\d{3})\n(.+)\n", vtt)
    assert cues
    assert " ".join(text for _, _, text in cues).split() == WORDS
    srt = _captioned(client, model="espeak", caption_format="srt")["captions"]
    numbered = re.findall(r"(\d+)\n\d\d:\d\d:\d\d,\d{3} --> \d\d:\d\d:\d\d,\d{3}\n", srt)
    assert numbered == [str(n) for n in range(1, len(cues) + 1)]


def test_sse_streams_carry_timestamp_events_between_the_deltas(client: OpenAI) -> None:
    with client.audio.speech.with_streaming_response.create(
        model="espeak",
        voice="alloy",
        input=TEXT,
        response_format="pcm",
        stream_format="sse",
        extra_body={"timestamps": "word"},
    ) as response:
        lines = [line for line in response.iter_lines() if line.startswith("data: ")]
    events = [json.loads(line.removeprefix("data: ")) for line in lines]
    kinds = [e["type"] for e in events]
    assert kinds[-1] == "speech.audio.done"
    assert kinds.count("speech.audio.timestamps") >= 2, "one per piece of text"
    stamps = [s for e in events if e["type"] == "speech.audio.timestamps" for s in e["timestamps"]]
    audio = b"".join(base64.b64decode(e["audio"]) for e in events if "audio" in e)
    _check_timeline(stamps, len(audio) / 2 / 24_000)
    # Each piece's words arrive before the audio they time.
    heard = 0.0
    for event in events:
        if event["type"] == "speech.audio.delta":
            heard += len(base64.b64decode(event["audio"])) / 2 / 24_000
        elif event["type"] == "speech.audio.timestamps":
            assert event["timestamps"][0]["start_time"] >= heard - 0.25


def test_timestamps_need_a_stream_that_can_carry_them(local_stack: Stack) -> None:
    response = httpx.post(
        f"{local_stack.base_url}/audio/speech",
        json={"model": "espeak", "voice": "alloy", "input": "Hi.", "timestamps": "word"},
        timeout=30,
    )
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "timestamps"
