"""Lexicons through the OpenAI SDK against the real local stack, checked by what Whisper
hears: an alias is heard as the alias, and an IPA entry is spoken as its phonemes by the
engines that take phonemes (Piper, Kokoro).

The IPA entry is the one espeak-ng gives for another word: Piper's and Kokoro's own
phonemizer, so those phonemes are exactly what the engine would say for that word. Hearing
that word where the text has the entry's grapheme shows the entry replaced the engine's
phonemes."""

from __future__ import annotations

import io
import subprocess
import wave

import httpx
import pytest
from openai import OpenAI

from support.stack import Stack
from support.transcribe import normalized_words, transcribe, word_error_rate

pytestmark = pytest.mark.e2e

# Short everyday sentences: one misheard word of seven or eight is allowed, as Whisper base
# slips now and then; a grapheme said as written would be a second one.
MAX_WER = 0.25


def _lexicon(stack: Stack, entry: dict[str, str]) -> str:
    response = httpx.post(
        f"{stack.router.url}/api/v1/audio/lexicons", json={"entries": [entry]}, timeout=10
    )
    assert response.status_code == 200, response.text
    lexicon_id: str = response.json()["id"]
    return lexicon_id


def _heard(client: OpenAI, model: str, text: str, lexicon: str) -> str:
    response = client.audio.speech.create(
        model=model,
        voice="alloy",
        input=text,
        response_format="wav",
        extra_body={"lexicons": [lexicon]},
    )
    with wave.open(io.BytesIO(response.read())) as audio:
        return transcribe(audio.readframes(audio.getnframes()), audio.getframerate())


def test_an_alias_is_heard_as_the_alias(local_stack: Stack, client: OpenAI) -> None:
    lexicon = _lexicon(local_stack, {"grapheme": "TTS", "alias": "text to speech"})
    heard = _heard(client, "espeak", "We build TTS for every reader.", lexicon)
    assert word_error_rate("We build text to speech for every reader.", heard) <= MAX_WER, heard


@pytest.mark.parametrize("model", ["piper", "kokoro"])
def test_an_ipa_entry_replaces_the_engines_phonemes(
    local_stack: Stack, client: OpenAI, model: str
) -> None:
    banana = subprocess.run(
        ["espeak-ng", "-v", "en-us", "-q", "--ipa", "banana"],
        capture_output=True,
        text=True,
        check=True,
        timeout=10,
    ).stdout.strip()
    lexicon = _lexicon(local_stack, {"grapheme": "zebra", "phoneme": banana})
    heard = _heard(client, model, "I saw a zebra at the zoo today.", lexicon)
    assert "zebra" not in normalized_words(heard), heard
    assert word_error_rate("I saw a banana at the zoo today.", heard) <= MAX_WER, heard


def test_word_timings_name_the_written_word_of_a_phoneme_entry(local_stack: Stack) -> None:
    lexicon = _lexicon(local_stack, {"grapheme": "zebra", "phoneme": "bənˈænə"})
    response = httpx.post(
        f"{local_stack.router.url}/api/v1/audio/captioned_speech",
        json={
            "model": "kokoro",
            "voice": "alloy",
            "input": "I saw a zebra today.",
            "lexicons": [lexicon],
            "response_format": "wav",
        },
        timeout=60,
    )
    assert response.status_code == 200, response.text
    words = [t["word"] for t in response.json()["timestamps"]]
    assert words == ["I", "saw", "a", "zebra", "today"]
