"""What a listener hears: speech from each local engine, asked for with the OpenAI SDK's
defaults (mp3) through the real router, transcribed by an independent recognizer (Whisper)."""

from __future__ import annotations

import numpy as np
import pytest
from openai import OpenAI

from chorus_audio import decode_audio
from support.transcribe import transcribe, word_error_rate

pytestmark = pytest.mark.e2e

# Two sentences, so the audio crosses a piece boundary; no names, which Whisper spells its
# own way.
TEXT = (
    "The old lighthouse keeper climbed the narrow stairs every evening before the storm "
    "arrived. She opened the letter slowly because she already knew what the doctor would say."
)
# Measured on this text (28 words, 4 runs each): espeak-ng 0.11 every time, Piper 0.00-0.11
# (its noise differs from run to run), Kokoro 0.04 every time. The bound leaves four words of
# margin over the worst, and still fails an engine that drops a sentence (0.5) or garbles it.
MAX_WER = 0.25


@pytest.mark.parametrize("model", ["espeak", "piper", "kokoro"])
def test_each_engine_is_heard_as_the_text_it_was_given(client: OpenAI, model: str) -> None:
    response = client.audio.speech.create(model=model, voice="alloy", input=TEXT)
    assert response.response.headers["x-chorus-provider"] == model
    decoded = decode_audio(response.read())
    pcm = (np.clip(decoded.samples, -1.0, 1.0) * 32767).astype("<i2").tobytes()
    heard = transcribe(pcm, decoded.sample_rate)
    assert word_error_rate(TEXT, heard) <= MAX_WER, heard
