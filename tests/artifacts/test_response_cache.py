"""The response cache end to end: identical requests are served from the store, anything
that changes the audio is a miss, and the request can opt out."""

from __future__ import annotations

import itertools
from typing import Any

import httpx
import pytest
from openai import OpenAI

from support.processes import wait_until
from support.stack import Stack, entry
from support.tone_stack import requests_seen

pytestmark = pytest.mark.e2e

_unique = itertools.count()


def _text() -> str:
    """A sentence no other test asks for, so its first request is a miss."""
    return f"The cache test number {next(_unique)} speaks now."


def _speak(http: httpx.Client, **fields: Any) -> httpx.Response:
    body = {"model": "tone", "voice": "alloy", "response_format": "mp3", "stream": False}
    headers = fields.pop("headers", {})
    response = http.post("/v1/audio/speech", json={**body, **fields}, headers=headers)
    assert response.status_code == 200, response.text
    return response


def _hits(http: httpx.Client, fmt: str) -> float:
    for line in http.get("/metrics").text.splitlines():
        if line.startswith(f'tts_cache_hits_total{{format="{fmt}"}}'):
            return float(line.split()[1])
    return 0.0


def test_a_repeated_whole_file_is_a_hit_with_the_same_bytes(
    client: OpenAI, http: httpx.Client
) -> None:
    text = _text()
    hits_before = _hits(http, "flac")
    first, second = (
        client.audio.speech.with_raw_response.create(
            model="piper",
            voice="alloy",
            input=text,
            response_format="flac",
            extra_body={"stream": False},
        )
        for _ in range(2)
    )
    assert first.headers["x-chorus-cache"] == "miss"
    assert second.headers["x-chorus-cache"] == "hit"
    assert second.headers["x-chorus-provider"] == "piper"
    assert second.content == first.content
    assert second.headers["content-length"] == str(len(first.content))
    assert _hits(http, "flac") == hits_before + 1
    assert "tts_cache_bytes " in http.get("/metrics").text


def test_a_streamed_hit_streams_the_same_bytes(client: OpenAI) -> None:
    text = _text()
    streamed = []
    for _ in range(2):
        with client.audio.speech.with_streaming_response.create(
            model="piper", voice="alloy", input=text, response_format="opus"
        ) as response:
            streamed.append((response.headers["x-chorus-cache"], b"".join(response.iter_bytes())))
    assert [outcome for outcome, _ in streamed] == ["miss", "hit"]
    assert streamed[0][1] == streamed[1][1]


def test_what_changes_the_audio_changes_the_entry(
    artifact_stack: Stack, http: httpx.Client
) -> None:
    tone = artifact_stack.providers["tone"]
    text = _text()
    assert _speak(http, input=text).headers["x-chorus-cache"] == "miss"
    made = requests_seen(tone)
    variants: list[dict[str, Any]] = [
        {"input": _text()},
        {"input": text, "voice": "high"},
        {"input": text, "speed": 1.5},
        {"input": text, "response_format": "wav"},
        {"input": text, "instructions": "Whisper."},
        {"input": text, "extra_params": {"seed": 3}},
        # The same words as SSML, with a pause: another compiled form, another entry.
        {"input": f'<speak>{text} <break time="1s"/></speak>'},
        {"input": f'<speak>{text} <break time="2s"/></speak>'},
    ]
    for variant in variants:
        assert _speak(http, **variant).headers["x-chorus-cache"] == "miss", variant
    assert requests_seen(tone) == made + len(variants)
    assert _speak(http, input=text).headers["x-chorus-cache"] == "hit"
    assert requests_seen(tone) == made + len(variants)


def test_cache_control_no_store_bypasses_and_no_cache_refreshes(
    artifact_stack: Stack, http: httpx.Client
) -> None:
    tone = artifact_stack.providers["tone"]
    text = _text()
    first = _speak(http, input=text, headers={"Cache-Control": "no-store"})
    assert "x-chorus-cache" not in first.headers
    assert _speak(http, input=text).headers["x-chorus-cache"] == "miss"  # nothing was stored
    made = requests_seen(tone)
    refreshed = _speak(http, input=text, headers={"Cache-Control": "no-cache"})
    assert refreshed.headers["x-chorus-cache"] == "miss"
    assert requests_seen(tone) == made + 1
    assert _speak(http, input=text).headers["x-chorus-cache"] == "hit"


def test_a_hit_can_still_come_with_a_download_link(http: httpx.Client) -> None:
    text = _text()
    _speak(http, input=text)
    hit = _speak(http, input=text, return_download_link=True)
    assert hit.headers["x-chorus-cache"] == "hit"
    assert http.get(hit.headers["x-download-path"]).content == hit.content


def test_a_registry_change_of_voice_is_never_served_stale(
    artifact_stack: Stack, http: httpx.Client
) -> None:
    text = _text()
    low = _speak(http, input=text)
    piper, tone = artifact_stack.providers["piper"], artifact_stack.providers["tone"]
    registry = [
        entry("piper", piper, ["piper"], voices={"alloy": "joe"}),
        entry("tone", tone, ["tone"], voices={"alloy": "high"}),
    ]
    artifact_stack.write_registry(registry)
    try:
        # Until the router reloads the file it is a hit; from then on the key is another.
        assert wait_until(
            lambda: _speak(http, input=text).headers["x-chorus-cache"] == "miss", 10, 0.2
        )
        assert _speak(http, input=text).content != low.content
    finally:
        registry[1]["voices"] = {"alloy": "low"}
        artifact_stack.write_registry(registry)
        # Back on the old key, the old audio: the next test sees the registry it expects.
        assert wait_until(lambda: _speak(http, input=text).content == low.content, 10, 0.2)


def test_a_lost_cached_file_is_a_miss_counted_as_a_store_error(
    artifact_stack: Stack, http: httpx.Client
) -> None:
    text = _text()
    assert _speak(http, input=text).headers["x-chorus-cache"] == "miss"
    port = artifact_stack.router.port
    files = artifact_stack.registry_file.parent / f"router-data-{port}" / "artifacts"
    lost = [path for path in files.rglob("*") if path.is_file()]
    assert lost
    for path in lost:
        path.unlink()
    before = _store_errors(http, "read")
    again = _speak(http, input=text)
    assert again.headers["x-chorus-cache"] == "miss"
    assert _store_errors(http, "read") == before + 1


def _store_errors(http: httpx.Client, operation: str) -> float:
    for line in http.get("/metrics").text.splitlines():
        if line.startswith(f'tts_artifact_store_errors_total{{operation="{operation}"}}'):
            return float(line.split()[1])
    return 0.0
