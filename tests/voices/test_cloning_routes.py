"""Cloned speech goes only to providers that clone, with the processed sample inline."""

from __future__ import annotations

import base64

import openai
import pytest

from support.cloning_provider import pitch_of
from support.tones import dominant_frequencies
from support.voice_samples import sample
from support.voice_stack import MAX_VOICES, VoiceStack


def test_inline_voice_reference_is_validated_processed_and_sent(
    sqlite_stack: VoiceStack, user: str
) -> None:
    reference = sample("opus", seconds=3.5, pitch=260.0, channels=2)
    encoded = base64.b64encode(reference).decode()
    before = len(sqlite_stack.received())
    response = sqlite_stack.http(user).post(
        "/v1/audio/speech",
        json={
            "model": "clone",
            "voice": "anyone",
            "input": "Say it like them.",
            "response_format": "pcm",
            "voice_reference": encoded,
            "voice_reference_text": "What the sample says.",
        },
    )
    assert response.status_code == 200, response.text
    got = sqlite_stack.received()[before:]
    assert [(r["channels"], r["sample_rate"]) for r in got] == [(1, 24_000)]
    assert got[0]["voice_reference_text"] == "What the sample says."
    assert got[0]["duration_s"] == pytest.approx(3.5, abs=0.05)
    assert dominant_frequencies(response.content) == {pitch_of(got[0]["sha256"])}
    logged = "".join(p.log_path.read_text() for p in [*sqlite_stack.routers, sqlite_stack.cloner])
    assert encoded[1000:1064] not in logged, "voice audio reached a log"


def test_bad_inline_reference_is_a_400(sqlite_stack: VoiceStack, user: str) -> None:
    speak = {"model": "clone", "voice": "anyone", "input": "Hello."}
    http = sqlite_stack.http(user)
    not_base64 = http.post("/v1/audio/speech", json={**speak, "voice_reference": "***"})
    assert not_base64.status_code == 400
    assert "base64" in not_base64.json()["error"]["message"]
    silent = base64.b64encode(sample("wav", seconds=0.5)).decode()
    too_short = http.post("/v1/audio/speech", json={**speak, "voice_reference": silent})
    assert too_short.status_code == 400
    assert too_short.json()["error"]["param"] == "voice_reference"


def test_a_model_without_a_cloning_provider_says_so(sqlite_stack: VoiceStack, user: str) -> None:
    reference = base64.b64encode(sample("wav", seconds=3.0)).decode()
    response = sqlite_stack.http(user).post(
        "/v1/audio/speech",
        json={"model": "tone", "voice": "alloy", "input": "Hi.", "voice_reference": reference},
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "voice_cloning_unsupported"
    assert "Models that can: clone" in error["message"]
    # Plain voices of that model are unaffected.
    plain = sqlite_stack.sdk(user).audio.speech.create(model="tone", voice="alloy", input="Hi.")
    assert plain.read()


def test_voice_count_quota(sqlite_stack: VoiceStack, user: str, recording: bytes) -> None:
    client = sqlite_stack.sdk(user)
    consent = client.audio.voice_consents.create(
        name="Quota", language="en", recording=("c.wav", recording, "audio/wav")
    )
    voices = [
        client.audio.voices.create(
            name=f"v{n}", consent=consent.id, audio_sample=("s.wav", recording, "audio/wav")
        )
        for n in range(MAX_VOICES)
    ]
    with pytest.raises(openai.PermissionDeniedError, match=f"{MAX_VOICES} of {MAX_VOICES} voices"):
        client.audio.voices.create(
            name="one too many", consent=consent.id, audio_sample=("s.wav", recording, "audio/wav")
        )
    client.audio.voices.delete(voices[0].id)
    client.audio.voices.create(
        name="fits again", consent=consent.id, audio_sample=("s.wav", recording, "audio/wav")
    )
    assert sqlite_stack.stored(user)["voices"] == MAX_VOICES


def test_upload_endpoints_refuse_non_multipart(sqlite_stack: VoiceStack, user: str) -> None:
    response = sqlite_stack.http(user).post("/v1/audio/voices", json={"name": "x"})
    assert response.status_code == 400
    assert "multipart/form-data" in response.json()["error"]["message"]
