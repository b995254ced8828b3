from __future__ import annotations

import pytest
from pydantic import ValidationError

from chorus_contracts import SpeechRequest, VoiceId


def test_openai_defaults() -> None:
    request = SpeechRequest(model="tts-1", input="Hi.", voice="alloy")
    assert (request.response_format, request.speed, request.stream_format) == ("mp3", 1.0, "audio")
    assert request.voice_name == "alloy"


def test_custom_voice_form() -> None:
    request = SpeechRequest.model_validate(
        {"model": "m", "input": "Hi.", "voice": {"id": "voice_1"}}
    )
    assert request.voice == VoiceId(id="voice_1")
    assert request.voice_name == "voice_1"


@pytest.mark.parametrize(
    "change",
    [
        {"input": "  "},
        {"speed": 0.2},
        {"speed": 4.01},
        {"response_format": "ogg"},
        {"voice": ""},
        {"unknown": 1},
        {"model": ""},
    ],
)
def test_refused(change: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        SpeechRequest.model_validate({"model": "m", "input": "Hi.", "voice": "alloy", **change})
