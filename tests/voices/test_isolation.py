"""One user's voices are invisible to another: every route answers 404, as for no voice."""

from __future__ import annotations

import openai
import pytest

from support.voice_stack import VoiceStack


def test_another_user_cannot_see_use_preview_or_delete_a_voice(
    stack: VoiceStack, user: str, recording: bytes
) -> None:
    alice, bob = stack.http(f"{user}-a"), stack.http(f"{user}-b")
    consent = alice.post(
        "/v1/audio/voice_consents",
        data={"name": "Alice", "language": "en"},
        files={"recording": ("c.wav", recording, "audio/wav")},
    ).json()["id"]
    voice = alice.post(
        "/api/v1/audio/voices/upload",
        data={"name": "Alice", "consent": consent, "description": "mine"},
        files={"file": ("a.wav", recording, "audio/wav")},
    ).json()["id"]

    assert bob.get("/api/v1/audio/voices").json()["data"] == []
    refused = {
        "get": bob.get(f"/api/v1/audio/voices/{voice}"),
        "preview": bob.post(f"/api/v1/audio/voices/{voice}/preview"),
        "delete": bob.delete(f"/api/v1/audio/voices/{voice}"),
        "delete (OpenAI)": bob.delete(f"/v1/audio/voices/{voice}"),
        "consent": bob.get(f"/v1/audio/voice_consents/{consent}"),
        "consent delete": bob.delete(f"/v1/audio/voice_consents/{consent}"),
    }
    for what, response in refused.items():
        assert response.status_code == 404, what
        assert "No voice" in response.json()["error"]["message"], what
    with pytest.raises(openai.NotFoundError, match=voice):
        stack.sdk(f"{user}-b").audio.speech.create(
            model="clone", voice={"id": voice}, input="Let me borrow this."
        )

    # Alice still has everything, and can use it.
    assert [v["id"] for v in alice.get("/api/v1/audio/voices").json()["data"]] == [voice]
    preview = alice.post(f"/api/v1/audio/voices/{voice}/preview", json={"response_format": "wav"})
    assert preview.status_code == 200
    assert preview.headers["content-type"] == "audio/wav"
    assert preview.headers["x-chorus-provider"] == "cloner"


def test_managing_voices_needs_the_voices_scope(stack: VoiceStack, user: str) -> None:
    speaker = stack.http(user, scopes="speech")
    response = speaker.get("/api/v1/audio/voices")
    assert response.status_code == 403
    assert "voices" in response.json()["error"]["message"]
