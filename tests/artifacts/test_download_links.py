"""Download links end to end: the OpenAI SDK asks for one, the file is fetched over HTTP."""

from __future__ import annotations

import base64
import time

import httpx
import pytest
from openai import OpenAI

from chorus_audio import decode_audio
from support.idleness import requests_left, wait_request_left
from support.processes import wait_until
from support.stack import Stack
from support.tone_stack import control

pytestmark = pytest.mark.e2e

TEXT = "Download links keep the audio for later. They expire on time."
LINK = {"return_download_link": True}


def test_a_streamed_response_names_a_file_with_the_same_audio(
    client: OpenAI, http: httpx.Client
) -> None:
    with client.audio.speech.with_streaming_response.create(
        model="piper", voice="alloy", input=TEXT, response_format="mp3", extra_body=LINK
    ) as response:
        streamed = b"".join(response.iter_bytes())
        path = response.headers["x-download-path"]
        expires_at = int(response.headers["x-download-expires-at"])
    assert path.startswith("/api/v1/audio/files/file_")
    assert path.endswith(".mp3")
    assert 3500 < expires_at - time.time() <= 3600  # an hour by default
    stored = http.get(path)
    assert stored.status_code == 200
    assert stored.headers["content-type"] == "audio/mpeg"
    assert int(stored.headers["content-length"]) == len(stored.content)
    assert stored.content == streamed
    assert decode_audio(stored.content).duration_s == pytest.approx(
        decode_audio(streamed).duration_s, abs=0.05
    )


def test_a_whole_wav_file_and_its_link_are_the_same_complete_file(
    client: OpenAI, http: httpx.Client
) -> None:
    response = client.audio.speech.create(
        model="piper",
        voice="alloy",
        input=TEXT,
        response_format="wav",
        extra_body={**LINK, "stream": False},
    )
    stored = http.get(response.response.headers["x-download-path"])
    assert stored.content == response.read()
    assert stored.headers["content-type"] == "audio/wav"
    assert decode_audio(stored.content).duration_s > 2


def test_ranges_heads_and_deletion(client: OpenAI, http: httpx.Client) -> None:
    response = client.audio.speech.create(
        model="tone", voice="alloy", input=TEXT, response_format="pcm", extra_body=LINK
    )
    audio, path = response.read(), response.response.headers["x-download-path"]
    size = len(audio)
    part = http.get(path, headers={"Range": "bytes=100-1099"})
    assert part.status_code == 206
    assert part.content == audio[100:1100]
    assert part.headers["content-range"] == f"bytes 100-1099/{size}"
    assert part.headers["content-length"] == "1000"
    tail = http.get(path, headers={"Range": "bytes=-10"})
    assert (tail.status_code, tail.content) == (206, audio[-10:])
    rest = http.get(path, headers={"Range": f"bytes={size - 3}-"})
    assert rest.content == audio[-3:]
    beyond = http.get(path, headers={"Range": f"bytes={size}-"})
    assert beyond.status_code == 416
    assert beyond.headers["content-range"] == f"bytes */{size}"
    head = http.head(path)
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["content-length"] == str(size)
    assert head.headers["accept-ranges"] == "bytes"
    assert http.delete(path).status_code == 204
    assert http.get(path).status_code == 404
    assert http.head(path).status_code == 404
    assert http.delete(path).status_code == 404


def test_links_expire_and_the_sweeper_removes_their_files(
    artifact_stack: Stack, client: OpenAI, http: httpx.Client
) -> None:
    response = client.audio.speech.create(
        model="tone",
        voice="alloy",
        input=TEXT,
        response_format="mp3",
        extra_body={**LINK, "download_expires_in": 2},
    )
    path = response.response.headers["x-download-path"]
    router = artifact_stack.router
    stored = (
        router.log_path.parent / f"router-data-{router.port}" / "artifacts" / path.rsplit("/")[-1]
    )
    assert http.get(path).status_code == 200
    assert stored.is_file()
    assert wait_until(lambda: http.get(path).status_code == 404, timeout_s=10, interval_s=0.2)
    assert wait_until(lambda: not stored.exists(), timeout_s=5, interval_s=0.1)
    too_long = http.post(
        "/v1/audio/speech",
        json={
            "model": "tone",
            "voice": "alloy",
            "input": TEXT,
            **LINK,
            "download_expires_in": 10 * 86_400,
        },
    )
    assert too_long.status_code == 400
    assert too_long.json()["error"]["param"] == "download_expires_in"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/audio/files/..%2F..%2Fchorus.db",
        "/api/v1/audio/files/%2e%2e%2fchorus.db",
        "/api/v1/audio/files/file_00000000000000000000000000000000.mp3",
        "/api/v1/audio/files/.incoming",
        "/api/v1/audio/files/chorus.db",
    ],
)
def test_names_that_are_not_live_files_are_404(http: httpx.Client, path: str) -> None:
    answer = http.get(path)
    assert answer.status_code == 404
    assert "error" in answer.json()


def test_an_abandoned_stream_leaves_no_file(
    artifact_stack: Stack, client: OpenAI, http: httpx.Client
) -> None:
    long_text = " ".join(f"Sentence {n} is here to make the stream long." for n in range(40))
    left = requests_left(artifact_stack.router.url)
    with client.audio.speech.with_streaming_response.create(
        model="piper", voice="alloy", input=long_text, response_format="mp3", extra_body=LINK
    ) as response:
        path = response.headers["x-download-path"]
        next(response.iter_bytes())
    wait_request_left(artifact_stack.router.url, left)
    assert http.get(path).status_code == 404


def test_a_stream_that_breaks_off_leaves_no_file(artifact_stack: Stack, http: httpx.Client) -> None:
    control(artifact_stack.providers["tone"], break_after_chunks=2, break_count=1)
    body = {"model": "tone", "voice": "alloy", "input": "One. Two. Three. Four.", **LINK}
    with http.stream("POST", "/v1/audio/speech", json=body) as response:
        path = response.headers["x-download-path"]
        with pytest.raises(httpx.RemoteProtocolError):  # the chunked body never completes
            response.read()
    assert http.get(path).status_code == 404


def test_captions_need_a_provider_that_times_words(http: httpx.Client) -> None:
    body = {"model": "tone", "voice": "alloy", "input": TEXT, "return_download_link": True}
    refused = http.post("/api/v1/audio/captioned_speech", json={**body, "caption_format": "vtt"})
    assert refused.status_code == 400
    error = refused.json()["error"]
    assert error["param"] == "timestamps"
    assert "piper" in error["message"], "it names the providers that time words"
    # Without timings asked, the audio alone is stored and linked.
    untimed = http.post("/api/v1/audio/captioned_speech", json={**body, "return_timestamps": False})
    answer = untimed.json()
    assert (answer["timestamps"], answer["captions_path"]) == (None, None)
    assert "x-captions-path" not in untimed.headers
    assert http.get(answer["download_path"]).content == base64.b64decode(answer["audio"])


def test_a_captioned_stream_that_breaks_off_is_cut_and_stores_nothing(
    artifact_stack: Stack, http: httpx.Client
) -> None:
    control(artifact_stack.providers["tone"], break_after_chunks=2, break_count=1)
    body = {
        "model": "tone",
        "voice": "alloy",
        "input": "One. Two. Three. Four.",
        "stream": True,
        "return_timestamps": False,
        **LINK,
    }
    with http.stream("POST", "/api/v1/audio/captioned_speech", json=body) as response:
        path = response.headers["x-download-path"]
        with pytest.raises(httpx.RemoteProtocolError):  # the body never completes
            response.read()
    assert http.get(path).status_code == 404
