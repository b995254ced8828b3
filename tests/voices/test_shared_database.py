"""Replicas share one database: what one router stores, the other serves, also after a restart."""

from __future__ import annotations

from support.cloning_provider import pitch_of
from support.tones import dominant_frequencies
from support.voice_samples import sample
from support.voice_stack import VoiceStack


def test_a_voice_uploaded_through_one_router_is_usable_through_the_other(
    stack: VoiceStack, user: str, recording: bytes
) -> None:
    first, second = stack.http(user, router=0), stack.http(user, router=1)
    consent = first.post(
        "/v1/audio/voice_consents",
        data={"name": "Shared", "language": "en"},
        files={"recording": ("c.wav", recording, "audio/wav")},
    ).json()["id"]
    uploaded = first.post(
        "/api/v1/audio/voices/upload",
        data={"name": "Shared voice", "consent": consent, "provider": "cloner"},
        files={"file": ("s.flac", sample("flac", seconds=4.0, pitch=240.0), "audio/flac")},
    ).json()

    listed = second.get("/api/v1/audio/voices").json()["data"]
    assert [(v["id"], v["name"], v["provider_hint"]) for v in listed] == [
        (uploaded["id"], "Shared voice", "cloner")
    ]
    audio = (
        stack.sdk(user, router=1)
        .audio.speech.create(
            model="clone",
            voice={"id": uploaded["id"]},
            input="From the other one.",
            response_format="pcm",
        )
        .read()
    )
    assert dominant_frequencies(audio) == {pitch_of(uploaded["sample_sha256"])}
    assert second.delete(f"/api/v1/audio/voices/{uploaded['id']}").status_code == 200
    assert first.get(f"/api/v1/audio/voices/{uploaded['id']}").status_code == 404


def test_voices_survive_a_router_restart(stack: VoiceStack, user: str, recording: bytes) -> None:
    http = stack.http(user, router=1)
    consent = http.post(
        "/v1/audio/voice_consents",
        data={"name": "Durable", "language": "en"},
        files={"recording": ("c.wav", recording, "audio/wav")},
    ).json()["id"]
    voice = http.post(
        "/api/v1/audio/voices/upload",
        data={"name": "Durable", "consent": consent},
        files={"file": ("d.wav", recording, "audio/wav")},
    ).json()["id"]
    stack.restart_router(1)
    again = stack.http(user, router=1)
    assert again.get(f"/api/v1/audio/voices/{voice}").json()["name"] == "Durable"
