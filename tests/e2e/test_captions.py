"""Word timestamps end to end: captioned speech, SSE timestamp events, WebVTT and SRT."""

from __future__ import annotations

import asyncio
import base64
import json
import re
from contextlib import suppress
from typing import Any

import httpx
import pytest
from openai import OpenAI

from chorus_audio import decode_audio
from support.idleness import counter, gauge, requests_left, wait_idle, wait_request_left
from support.processes import wait_until
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


def _streamed_lines(local_stack: Stack, **body: Any) -> tuple[httpx.Response, list[dict[str, Any]]]:
    with httpx.stream(
        "POST",
        f"{local_stack.base_url}/audio/captioned_speech",
        json={"voice": "alloy", "input": TEXT, "stream": True, **body},
        timeout=60,
    ) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"] == "application/x-ndjson"
        lines = [json.loads(line) for line in response.iter_lines() if line]
    return response, lines


@pytest.mark.parametrize(
    ("model", "fmt"),
    [
        ("espeak", "mp3"),
        ("espeak", "opus"),
        ("espeak", "flac"),
        ("espeak", "wav"),
        ("kokoro", "aac"),
        ("piper", "pcm"),
    ],
)
def test_a_streamed_captioned_speech_is_one_json_object_per_line(
    local_stack: Stack, model: str, fmt: str
) -> None:
    _, lines = _streamed_lines(local_stack, model=model, response_format=fmt)
    assert len(lines) > 2, "the audio comes in pieces, not as one file"
    assert all(set(line) == {"audio", "audio_format", "format", "timestamps"} for line in lines)
    assert {line["format"] for line in lines} == {fmt}
    pieces = [base64.b64decode(line["audio"]) for line in lines]
    audio = b"".join(pieces)
    seconds = len(audio) / 2 / 24_000 if fmt == "pcm" else decode_audio(audio).duration_s
    _check_timeline([s for line in lines for s in line["timestamps"]], seconds)
    if fmt == "pcm":
        # Timings are from the start of the stream, and each word comes no later than the
        # line whose audio reaches it: never after that audio has been delivered.
        heard = 0.0
        for line, piece in zip(lines, pieces, strict=True):
            for stamp in line["timestamps"]:
                assert stamp["start_time"] >= heard - 0.25, (stamp, heard)
            heard += len(piece) / 2 / 24_000


def test_leaving_a_captioned_stream_cancels_it_and_stores_nothing(local_stack: Stack) -> None:
    text = " ".join(f"Sentence {n} is here to make the stream long." for n in range(40))
    piper = local_stack.providers["piper"]
    body = {
        "model": "piper",
        "voice": "alloy",
        "input": text,
        "stream": True,
        "return_download_link": True,
        "caption_format": "srt",
    }
    url = f"{local_stack.base_url}/audio/captioned_speech"
    left = requests_left(local_stack.router.url)
    with httpx.stream("POST", url, json=body, timeout=60) as response:
        paths = [response.headers["x-download-path"], response.headers["x-captions-path"]]
        lines = response.iter_lines()  # kept: a dropped iterator closes the response
        assert json.loads(next(lines))["audio"]
        assert gauge(piper.url, "chorus_provider_in_flight_requests") == 1, "nothing to cancel"
    wait_idle(piper.url, piper.pid, bound_s=5.0)
    assert wait_until(lambda: gauge(local_stack.router.url, "tts_active_requests") == 0, 5.0)
    wait_request_left(local_stack.router.url, left)
    for path in paths:
        assert httpx.get(f"{local_stack.router.url}{path}", timeout=10).status_code == 404


def test_a_finished_captioned_stream_stores_its_audio_and_captions(local_stack: Stack) -> None:
    response, lines = _streamed_lines(
        local_stack, model="espeak", response_format="mp3", return_download_link=True
    )
    router = local_stack.router.url
    audio = httpx.get(f"{router}{response.headers['x-download-path']}", timeout=10)
    captions = httpx.get(f"{router}{response.headers['x-captions-path']}", timeout=10)
    assert audio.content == b"".join(base64.b64decode(line["audio"]) for line in lines)
    assert captions.headers["content-type"] == "text/vtt; charset=utf-8"
    cues = re.findall(r"\d\d:\d\d:\d\d\.\d{3} --> \d\d:\d\d:\d\d\.\d{3}\n(.+)\n", captions.text)
    assert " ".join(cues).split() == WORDS


def test_piper_times_numbers_and_abbreviations_espeak_reads_as_several_words(
    client: OpenAI,
) -> None:
    # Left as written, so Piper's espeak-ng reads "$1,250" as four words and joins "in the".
    text = "At 3:30 pm, Dr. Smith paid $1,250 for a well-known car... in the U.S.A."
    body = _captioned(
        client,
        model="piper",
        input=text,
        response_format="wav",
        normalization_options={"normalize": False},
    )
    stamps = body["timestamps"]
    assert [s["word"] for s in stamps] == [w.strip(",.") for w in text.split()]
    seconds = decode_audio(base64.b64decode(body["audio"])).duration_s
    for stamp, following in zip(stamps, [*stamps[1:], None], strict=True):
        assert 0 <= stamp["start_time"] < stamp["end_time"] <= seconds + 0.05
        assert following is None or stamp["end_time"] <= following["start_time"]


async def test_leaving_before_a_whole_captioned_answer_cancels_it_and_stores_nothing(
    local_stack: Stack,
) -> None:
    text = " ".join(f"Sentence {n} is here to make the answer long." for n in range(40))
    piper, router = local_stack.providers["piper"], local_stack.router
    stored = router.log_path.parent / f"router-data-{router.port}" / "artifacts"
    before = set(stored.iterdir())
    body = {
        "model": "piper",
        "voice": "alloy",
        "input": text,
        "return_download_link": True,
        "caption_format": "vtt",
    }

    def made() -> float:
        """Responses whose audio the router has begun to encode: the file is being made."""
        return counter(router.url, "tts_time_to_first_byte_seconds_count", provider="piper")

    started, left = made(), requests_left(router.url)
    async with httpx.AsyncClient(timeout=60) as client:
        answer = asyncio.create_task(
            client.post(f"{local_stack.base_url}/audio/captioned_speech", json=body)
        )
        # Leave while the file is being made, not before the router has begun it.
        assert await asyncio.to_thread(wait_until, lambda: made() > started, 30.0)
        answer.cancel()
        with suppress(asyncio.CancelledError):
            await answer
    await asyncio.to_thread(wait_idle, piper.url, piper.pid, 5.0)
    await asyncio.to_thread(wait_request_left, router.url, left)
    assert set(stored.iterdir()) == before, "a file of an abandoned answer"
