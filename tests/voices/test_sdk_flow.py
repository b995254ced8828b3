"""The OpenAI custom-voice flow with the official SDK: consent, voice, speech, delete."""

from __future__ import annotations

import io

import openai
import pytest

from support.cloning_provider import pitch_of
from support.tones import dominant_frequencies
from support.voice_samples import sample
from support.voice_stack import VoiceStack


def test_consent_voice_speak_delete(stack: VoiceStack, user: str, recording: bytes) -> None:
    client = stack.sdk(user)
    consent = client.audio.voice_consents.create(
        name="Ada's consent", language="en-US", recording=("consent.wav", recording, "audio/wav")
    )
    assert consent.object == "audio.voice_consent"
    assert consent.id.startswith("cons_")
    upload = sample("mp3", seconds=6.0, pitch=210.0, channels=2)
    voice = client.audio.voices.create(
        name="Ada", consent=consent.id, audio_sample=("ada.mp3", io.BytesIO(upload), "audio/mpeg")
    )
    assert (voice.object, voice.type, voice.name) == ("audio.voice", "audio_sample", "Ada")
    assert voice.id.startswith("voice_")

    before = len(stack.received())
    audio = client.audio.speech.create(
        model="clone", voice={"id": voice.id}, input="One two three four.", response_format="pcm"
    ).read()

    got = stack.received()[before:]
    assert len(got) == 1
    stored = stack.http(user).get(f"/api/v1/audio/voices/{voice.id}").json()
    # The provider got the processed sample: mono 16-bit WAV at 24 kHz, the stored one.
    assert got[0]["sha256"] == stored["sample_sha256"]
    assert (got[0]["channels"], got[0]["sample_width"], got[0]["sample_rate"]) == (1, 2, 24_000)
    assert got[0]["duration_s"] == pytest.approx(6.0, abs=0.1)
    assert dominant_frequencies(audio) == {pitch_of(stored["sample_sha256"])}

    deleted = client.audio.voices.delete(voice.id)
    assert (deleted.id, deleted.deleted, deleted.object) == (voice.id, True, "audio.voice.deleted")
    with pytest.raises(openai.NotFoundError, match=voice.id):
        client.audio.speech.create(model="clone", voice={"id": voice.id}, input="Hello there.")
    with pytest.raises(openai.NotFoundError):
        client.audio.voices.delete(voice.id)
    assert stack.stored(user)["voices"] == 0


def test_consents_list_update_retrieve_delete(
    stack: VoiceStack, user: str, recording: bytes
) -> None:
    client = stack.sdk(user)
    made = [
        client.audio.voice_consents.create(
            name=f"consent {n}", language="en-GB", recording=("c.wav", recording, "audio/wav")
        )
        for n in range(3)
    ]
    first_page = client.audio.voice_consents.list(limit=2)
    assert [c.id for c in first_page.data] == [c.id for c in made[:2]]
    assert first_page.has_more
    # Iterating the page makes the SDK follow the cursor (`after`) through every page.
    assert [c.id for c in client.audio.voice_consents.list(limit=2)] == [c.id for c in made]

    renamed = client.audio.voice_consents.update(made[0].id, name="Renamed")
    assert (renamed.name, renamed.language) == ("Renamed", "en-GB")
    assert client.audio.voice_consents.retrieve(made[0].id).name == "Renamed"

    voice = client.audio.voices.create(
        name="Kept", consent=made[0].id, audio_sample=("s.wav", recording, "audio/wav")
    )
    with pytest.raises(openai.ConflictError, match="delete them first"):
        client.audio.voice_consents.delete(made[0].id)
    client.audio.voices.delete(voice.id)
    for consent in made:
        gone = client.audio.voice_consents.delete(consent.id)
        assert (gone.id, gone.deleted) == (consent.id, True)
    with pytest.raises(openai.NotFoundError):
        client.audio.voice_consents.retrieve(made[0].id)
    assert stack.stored(user) == {"voices": 0, "consents": 0, "bytes": 0}


def test_a_voice_needs_a_consent_of_ones_own(
    stack: VoiceStack, user: str, recording: bytes
) -> None:
    other = stack.sdk(f"{user}-other").audio.voice_consents.create(
        name="Theirs", language="en", recording=("c.wav", recording, "audio/wav")
    )
    with pytest.raises(openai.NotFoundError, match="consent"):
        stack.sdk(user).audio.voices.create(
            name="Stolen", consent=other.id, audio_sample=("s.wav", recording, "audio/wav")
        )
    with pytest.raises(openai.BadRequestError, match="consent"):
        stack.sdk(user).audio.voices.with_raw_response.create(
            name="No consent", consent="", audio_sample=("s.wav", recording, "audio/wav")
        )
