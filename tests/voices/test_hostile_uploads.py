"""Hostile uploads: each is refused with a 4xx that says why, and leaves nothing behind."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable

import pytest

from support.voice_samples import sample, silent_flac, truncated_mp3
from support.voice_stack import VoiceStack


@functools.cache
def _two_hour_silence() -> bytes:
    return silent_flac(2 * 3600)


CASES: dict[str, tuple[Callable[[], bytes], str, str, int, str]] = {
    # case: (file bytes, file name, voice name, status, words the message must contain)
    "text named .wav": (
        lambda: b"Just some text, not audio at all.\n" * 40,
        "voice.wav",
        "Text",
        400,
        "not audio in an accepted format",
    ),
    "truncated mp3": (truncated_mp3, "cut.mp3", "Cut", 400, "truncated"),
    "zero bytes": (lambda: b"", "empty.wav", "Empty", 400, "empty"),
    "11 MiB": (lambda: b"\0" * (11 * 1024 * 1024), "big.wav", "Big", 413, "larger than"),
    "2 h of silent flac": (_two_hour_silence, "quiet.flac", "Quiet", 400, "7200.0 s long"),
    "path as name": (lambda: sample("wav"), "ok.wav", "../../etc/passwd", 400, "separators"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_hostile_upload_is_refused_and_leaves_nothing(
    stack: VoiceStack, user: str, recording: bytes, case: str
) -> None:
    make, filename, name, status, words = CASES[case]
    http = stack.http(user)
    consent = http.post(
        "/v1/audio/voice_consents",
        data={"name": "Consent", "language": "en"},
        files={"recording": ("c.wav", recording, "audio/wav")},
    ).json()["id"]
    before_rows, before_files = stack.stored(user), _files(stack)
    marker = f"hostile-{uuid.uuid4().hex}"

    response = http.post(
        "/api/v1/audio/voices/upload",
        data={"name": name, "consent": consent, "description": marker},
        files={"file": (filename, make(), "audio/wav")},
    )

    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert words in error["message"]
    assert error["type"] == "invalid_request_error"
    assert stack.stored(user) == before_rows
    assert http.get("/api/v1/audio/voices").json()["data"] == []
    assert _files(stack) == before_files
    assert not any(stack.tmp_dir.iterdir()), "the upload was spooled to a temporary file"
    if stack.database_url.startswith("sqlite"):
        on_disk = b"".join(p.read_bytes() for p in stack.data_dir.iterdir() if p.is_file())
        assert marker.encode() not in on_disk


def test_refused_sdk_upload_raises_a_typed_error(stack: VoiceStack, user: str) -> None:
    import openai

    client = stack.sdk(user)
    with pytest.raises(openai.BadRequestError, match="not audio in an accepted format"):
        client.audio.voice_consents.create(
            name="Not audio", language="en", recording=("c.mp3", b"%PDF-1.7 ...", "audio/mpeg")
        )
    assert stack.stored(user)["consents"] == 0


def _files(stack: VoiceStack) -> set[str]:
    return {p.name for p in stack.data_dir.iterdir()}
