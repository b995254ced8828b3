"""A request in a language its model's first provider does not speak goes to one that does."""

from __future__ import annotations

import openai
import pytest
from openai import OpenAI

from chorus_audio import decode_audio

pytestmark = pytest.mark.e2e


def test_tts1_in_french_is_spoken_by_espeak_ng(client: OpenAI) -> None:
    # tts-1's chain is Piper (en-us only), then espeak-ng, which speaks French.
    response = client.audio.speech.create(
        model="tts-1",
        voice="alloy",
        input="Bonjour, je parle français.",
        response_format="wav",
        extra_body={"lang_code": "fr"},
    )
    assert response.response.headers["x-chorus-provider"] == "espeak"
    assert decode_audio(response.read()).duration_s > 1.0
    english = client.audio.speech.create(model="tts-1", voice="alloy", input="Hello.")
    assert english.response.headers["x-chorus-provider"] == "piper"


def test_a_language_no_provider_speaks_is_a_400_naming_what_they_speak(client: OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.audio.speech.create(
            model="piper", voice="joe", input="Hallo.", extra_body={"lang_code": "de"}
        )
    error = caught.value.body
    assert isinstance(error, dict)
    assert error["param"] == "lang_code"
    assert "piper speaks en-us" in error["message"]
