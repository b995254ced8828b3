"""Captions as files: a captioned speech response's WebVTT or SRT, fetched by its link.

A router with real authentication (JWT users) and signed links, in front of the local
stack's espeak-ng provider process: the links are their owner's, or a signed URL's.
"""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from openai import OpenAI

from chorus_audio import decode_audio
from support.processes import ServiceProcess
from support.stack import Stack, router_over
from support.voice_stack import JWT_SECRET, token

pytestmark = pytest.mark.e2e

TEXT = "Well, the quick brown fox jumps over the lazy dog. Then it sleeps until three o'clock."
WORDS = [w.strip(",.") for w in TEXT.split()]
_CUE = {
    "vtt": re.compile(r"(\d\d):(\d\d):(\d\d)\.(\d{3}) --> (\d\d):(\d\d):(\d\d)\.(\d{3})\n(.+)\n"),
    "srt": re.compile(
        r"\d+\n(\d\d):(\d\d):(\d\d),(\d{3}) --> (\d\d):(\d\d):(\d\d),(\d{3})\n(.+)\n"
    ),
}
_TYPES = {"vtt": "text/vtt; charset=utf-8", "srt": "application/x-subrip"}


@pytest.fixture(scope="module")
def router(local_stack: Stack) -> Iterator[ServiceProcess]:
    env = {
        "CHORUS_ROUTER_SECURITY__MODE": "jwt",
        "CHORUS_ROUTER_SECURITY__JWT__ALGORITHM": "HS256",
        "CHORUS_ROUTER_SECURITY__JWT__SECRET": JWT_SECRET,
        "CHORUS_ROUTER_SECURITY__JWT__ISSUER": "chorus-tests",
        "CHORUS_ROUTER_SECURITY__JWT__AUDIENCE": "chorus",
        "CHORUS_ROUTER_ARTIFACTS__LINKS__SIGNED": "true",
        "CHORUS_ROUTER_ARTIFACTS__LINKS__SIGNING_KEY": "chorus-caption-links-key-0123456789abcdef",
    }
    with router_over(local_stack, env) as secured:
        yield secured.router


def _user(router: ServiceProcess, user: str) -> httpx.Client:
    return httpx.Client(
        base_url=router.url, headers={"Authorization": f"Bearer {token(user)}"}, timeout=60
    )


def _captioned(router: ServiceProcess, user: str, **body: Any) -> httpx.Response:
    """Through the OpenAI SDK's own request path, as a client of Kokoro-FastAPI does."""
    sdk = OpenAI(base_url=f"{router.url}/v1", api_key=token(user), max_retries=0, timeout=60)
    response = sdk.post(
        "/audio/captioned_speech",
        body={"model": "espeak", "voice": "alloy", "input": TEXT, **body},
        cast_to=httpx.Response,
    )
    assert response.status_code == 200, response.text
    return response


def _cues(text: str, fmt: str) -> list[tuple[float, float, str]]:
    cues = []
    for match in _CUE[fmt].finditer(text):
        h1, m1, s1, ms1, h2, m2, s2, ms2 = (int(g) for g in match.groups()[:8])
        start = h1 * 3600 + m1 * 60 + s1 + ms1 / 1000
        end = h2 * 3600 + m2 * 60 + s2 + ms2 / 1000
        cues.append((start, end, match.group(9)))
    return cues


@pytest.mark.parametrize("fmt", ["vtt", "srt"])
def test_caption_files_are_fetched_by_their_owners_link(router: ServiceProcess, fmt: str) -> None:
    response = _captioned(router, "alice", caption_format=fmt, response_format="mp3")
    answer = response.json()
    signed = answer["captions_path"]
    assert signed == response.headers["x-captions-path"]
    path, _, query = signed.partition("?")
    assert re.fullmatch(rf"/api/v1/audio/files/file_[0-9a-f]{{32}}\.{fmt}", path)
    assert "signature=" in query
    assert 3500 < answer["download_expires_at"] - time.time() <= 3600
    assert answer["download_path"] is None  # no audio link was asked for
    with _user(router, "alice") as alice, _user(router, "bob") as bob:
        stored = alice.get(path)
        assert stored.status_code == 200
        assert stored.headers["content-type"] == _TYPES[fmt]
        assert stored.text == answer["captions"], "the file is the inline captions"
        assert bob.get(path).status_code == 404, "another tenant's file is not found"
        head = alice.head(path)
        assert head.headers["content-length"] == str(len(stored.content))
        part = alice.get(path, headers={"Range": "bytes=0-5"})
        assert (part.status_code, part.content) == (206, stored.content[:6])
        assert bob.delete(path).status_code == 404
    with httpx.Client(base_url=router.url, timeout=30) as browser:
        assert browser.get(signed).text == stored.text  # a signed URL needs no key
        assert browser.get(path).status_code == 401
    with _user(router, "alice") as alice:
        assert alice.delete(path).status_code == 204
        assert alice.get(path).status_code == 404
    if fmt == "vtt":
        assert stored.text.startswith("WEBVTT\n\n")
    cues = _cues(stored.text, fmt)
    assert " ".join(text for _, _, text in cues).split() == WORDS, "every word, once, in order"
    seconds = decode_audio(base64.b64decode(answer["audio"])).duration_s
    for (start, end, _), following in zip(cues, [*cues[1:], None], strict=True):
        assert 0 <= start < end <= seconds + 0.05
        assert following is None or end <= following[0]


def test_a_download_link_stores_the_audio_and_its_captions(router: ServiceProcess) -> None:
    response = _captioned(router, "carol", return_download_link=True, response_format="wav")
    answer = response.json()
    assert answer["captions"] is None  # json captions: the timestamps; the file is WebVTT
    assert response.headers["x-download-path"] == answer["download_path"]
    with _user(router, "carol") as carol, _user(router, "dave") as dave:
        audio = carol.get(answer["download_path"])
        captions = carol.get(answer["captions_path"].partition("?")[0])
        assert dave.get(answer["download_path"].partition("?")[0]).status_code == 404
    assert audio.content == base64.b64decode(answer["audio"])
    assert audio.headers["content-type"] == "audio/wav"
    assert captions.headers["content-type"] == _TYPES["vtt"]
    cues = _cues(captions.text, "vtt")
    assert " ".join(text for _, _, text in cues).split() == WORDS
    assert cues[-1][1] <= decode_audio(audio.content).duration_s + 0.05


def test_an_unknown_caption_format_is_a_400(router: ServiceProcess) -> None:
    with _user(router, "alice") as alice:
        refused = alice.post(
            "/api/v1/audio/captioned_speech",
            json={"model": "espeak", "voice": "alloy", "input": TEXT, "caption_format": "ass"},
        )
    assert refused.status_code == 400
    assert refused.json()["error"]["type"] == "invalid_request_error"
