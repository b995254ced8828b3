"""The OpenAI SDK against the real router with real espeak-ng and Piper processes."""

from __future__ import annotations

import base64
import json
import struct
import time

import httpx
import openai
import pytest
from openai import OpenAI

from chorus_audio import decode_audio
from chorus_contracts import FIRST_AUDIO_METRIC, PROVIDER_METRIC, timing_ms
from support.stack import Stack

pytestmark = pytest.mark.e2e

SENTENCE = "Hello there, this is Chorus speaking."
FORMATS = ["mp3", "opus", "aac", "flac", "wav", "pcm"]


def _pcm_seconds(data: bytes) -> float:
    return len(data) / 2 / 24_000


def _seconds(data: bytes, fmt: str) -> float:
    return _pcm_seconds(data) if fmt == "pcm" else decode_audio(data).duration_s


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_decodes_to_speech_as_long_as_the_words(client: OpenAI, fmt: str) -> None:
    response = client.audio.speech.create(
        model="tts-1",
        voice="alloy",
        input=SENTENCE,
        response_format=fmt,  # type: ignore[arg-type]
    )
    audio = response.read()
    assert response.response.headers["x-chorus-provider"] == "piper"
    # Six words spoken at a normal pace take roughly 1.5 to 4 seconds.
    assert 1.2 < _seconds(audio, fmt) < 5.0
    if fmt != "pcm":
        decoded = decode_audio(audio)
        # Opus decoders always produce 48 kHz, whatever rate went in.
        assert decoded.sample_rate == (48_000 if fmt == "opus" else 24_000)
        assert float((decoded.samples**2).mean()) ** 0.5 > 0.01, "audio is silent"


def test_content_types_follow_the_format(client: OpenAI) -> None:
    expected = {"mp3": "audio/mpeg", "wav": "audio/wav", "flac": "audio/flac"}
    for fmt, content_type in expected.items():
        response = client.audio.speech.create(
            model="espeak",
            voice="en-us",
            input="Hi.",
            response_format=fmt,  # type: ignore[arg-type]
        )
        assert response.response.headers["content-type"].startswith(content_type)


def test_whole_wav_file_has_true_sizes(client: OpenAI) -> None:
    audio = client.audio.speech.create(
        model="espeak",
        voice="alloy",
        input=SENTENCE,
        response_format="wav",
        extra_body={"stream": False},
    ).read()
    riff_size, data_size = (
        struct.unpack_from("<I", audio, 4)[0],
        struct.unpack_from("<I", audio, 40)[0],
    )
    assert riff_size == len(audio) - 8
    assert data_size == len(audio) - 44


def test_the_voice_name_chooses_the_engine_voice(client: OpenAI) -> None:
    female = client.audio.speech.create(
        model="espeak", voice="nova", input=SENTENCE, response_format="pcm"
    ).read()
    male = client.audio.speech.create(
        model="espeak", voice="onyx", input=SENTENCE, response_format="pcm"
    ).read()
    assert female != male


def test_espeak_variants_are_voices_too(client: OpenAI) -> None:
    plain = client.audio.speech.create(
        model="espeak", voice="en-us", input=SENTENCE, response_format="pcm"
    ).read()
    variant = client.audio.speech.create(
        model="espeak", voice="en-us+f3", input=SENTENCE, response_format="pcm"
    ).read()
    assert variant != plain
    with pytest.raises(openai.NotFoundError, match="not available"):
        client.audio.speech.create(model="espeak", voice="en-us+nobody", input=SENTENCE)


def test_speed_changes_how_long_the_speech_lasts(client: OpenAI) -> None:
    def seconds(speed: float) -> float:
        return _pcm_seconds(
            client.audio.speech.create(
                model="piper", voice="joe", input=SENTENCE, response_format="pcm", speed=speed
            ).read()
        )

    normal, fast = seconds(1.0), seconds(2.0)
    assert fast < normal * 0.7


LONG_TEXT = " ".join(
    f"This is sentence number {n} of a longer text that streams sentence by sentence."
    for n in range(1, 9)
)


def _in_flight(provider_url: str) -> float:
    metrics = httpx.get(f"{provider_url}/metrics", timeout=5).text
    for line in metrics.splitlines():
        if line.startswith("chorus_provider_in_flight_requests "):
            return float(line.split()[1])
    raise AssertionError("in-flight gauge missing")


def test_streaming_sends_audio_while_later_sentences_are_still_synthesizing(
    client: OpenAI, local_stack: Stack
) -> None:
    with client.audio.speech.with_streaming_response.create(
        model="piper", voice="joe", input=LONG_TEXT, response_format="pcm"
    ) as response:
        chunks = response.iter_bytes()
        first = next(chunks)
        still_synthesizing = _in_flight(local_stack.providers["piper"].url)
        rest = b"".join(chunks)
    assert first
    assert still_synthesizing == 1, "the provider had finished before the first audio arrived"
    total = len(first) + len(rest)
    assert len(first) < total / 3
    # Eight sentences of ~14 words take well over 20 seconds to say.
    assert _pcm_seconds(first + rest) > 20


def test_server_timing_tells_the_engines_part_of_the_first_audio(client: OpenAI) -> None:
    # Synthesized, not answered from the cache (which has no engine time to tell).
    with client.audio.speech.with_streaming_response.create(
        model="piper",
        voice="joe",
        input=SENTENCE,
        response_format="pcm",
        extra_headers={"Cache-Control": "no-cache"},
    ) as response:
        header = response.headers["server-timing"]
    engine_ms = timing_ms(header, PROVIDER_METRIC)
    first_audio_ms = timing_ms(header, FIRST_AUDIO_METRIC)
    assert 'provider;desc="piper"' in header
    assert engine_ms is not None, header
    assert first_audio_ms is not None, header
    # The router's first audio holds the engine's, and the call to the provider around it.
    assert 0 < engine_ms < first_audio_ms


def test_a_client_that_leaves_mid_stream_frees_the_engine(
    client: OpenAI, local_stack: Stack
) -> None:
    from support.processes import wait_until

    piper = local_stack.providers["piper"].url
    # Twice the long text: even on a loaded machine it cannot all be synthesized before the check.
    with client.audio.speech.with_streaming_response.create(
        model="piper", voice="joe", input=f"{LONG_TEXT} {LONG_TEXT}", response_format="mp3"
    ) as response:
        # Keep the iterator: a discarded one closes the connection, which is leaving.
        chunks = response.iter_bytes()
        next(chunks)
        assert _in_flight(piper) == 1
    left = time.monotonic()
    # The router closes its provider call; the provider stops inside the piece in flight
    # (see `make bench`; the bound is loose for loaded CI machines).
    assert wait_until(lambda: _in_flight(piper) == 0, timeout_s=5.0)
    print(f"engine freed {time.monotonic() - left:.2f}s after the client left")


def test_sse_events_carry_the_same_audio(client: OpenAI, local_stack: Stack) -> None:
    body = {"model": "espeak", "voice": "alloy", "input": SENTENCE, "response_format": "pcm"}
    whole = httpx.post(f"{local_stack.base_url}/audio/speech", json=body, timeout=30).content
    events = []
    with httpx.stream(
        "POST",
        f"{local_stack.base_url}/audio/speech",
        json={**body, "stream_format": "sse"},
        timeout=30,
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line.removeprefix("data: ")))
    assert events[-1]["type"] == "speech.audio.done"
    deltas = [e for e in events[:-1] if e["type"] == "speech.audio.delta"]
    assert len(deltas) == len(events) - 1
    audio = b"".join(base64.b64decode(e["audio"]) for e in deltas)
    # espeak-ng is deterministic: the same request gives the same samples either way.
    assert abs(_pcm_seconds(audio) - _pcm_seconds(whole)) < 0.01


def test_models_list_what_the_providers_serve(client: OpenAI) -> None:
    ids = {model.id for model in client.models.list()}
    assert {"tts-1", "tts-1-hd", "piper", "espeak"} <= ids
    assert client.models.retrieve("piper").id == "piper"


def test_catalog_lists_every_providers_voices(local_stack: Stack) -> None:
    url = f"{local_stack.router.url}/api/v1/audio/voices/catalog"
    voices = httpx.get(url, timeout=5).json()["voices"]
    by_provider = {(v["provider"], v["id"]) for v in voices}
    assert ("piper", "joe") in by_provider
    assert ("espeak", "en-us") in by_provider
    assert len([v for v in voices if v["provider"] == "espeak"]) > 50
    joe = next(v for v in voices if v["id"] == "joe")
    assert "alloy" in joe["aliases"]
    french = httpx.get(url, params={"lang": "fr", "provider": "espeak"}, timeout=5).json()
    assert french["voices"]
    assert all(v["language"].startswith("fr") for v in french["voices"])


def test_providers_endpoint_reports_capabilities(local_stack: Stack) -> None:
    body = httpx.get(f"{local_stack.router.url}/api/v1/audio/providers", timeout=5).json()
    piper = next(p for p in body["providers"] if p["name"] == "piper")
    assert piper["ready"] is True
    assert piper["capabilities"]["engine"] == "piper"
    assert piper["capabilities"]["sample_rate"] == 22050
    assert piper["capabilities"]["streaming"] is True
