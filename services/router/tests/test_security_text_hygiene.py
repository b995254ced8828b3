"""Input text is cleaned to be spoken, never refused for what it says."""

from __future__ import annotations

import pytest

from chorus_contracts import InvalidRequest, SpeechRequest
from chorus_router.speech.text_hygiene import clean_request, clean_text


def test_prose_that_looks_like_code_is_kept_and_markup_is_neutralized() -> None:
    text = "DROP TABLE users; <script>alert('x')</script> & <speak><break time='3s'/></speak>"

    cleaned = clean_text(text)

    assert "<" not in cleaned
    assert ">" not in cleaned
    assert cleaned.startswith("DROP TABLE users; \u2039script\u203aalert('x')")
    assert "&" in cleaned


def test_unicode_is_composed_and_controls_are_removed() -> None:
    decomposed = "Cafe\u0301 \x00na\x07i\u0308ve\u202e\ud800 line\nbreak\ttab"

    assert clean_text(decomposed) == "Café naïve line\nbreak\ttab"


def test_removing_a_control_lets_an_accent_join_its_letter() -> None:
    assert clean_text("e\x00\u0301") == "é"


def test_requests_are_cleaned_in_input_and_instructions() -> None:
    body = SpeechRequest(model="m", voice="v", input="<b>Hi</b>", instructions="calm\x1b[31m")

    cleaned = clean_request(body)

    assert cleaned.input == "\u2039b\u203aHi\u2039/b\u203a"
    assert cleaned.instructions == "calm[31m"
    assert body.input == "<b>Hi</b>"


def test_input_of_only_controls_is_refused_as_empty() -> None:
    with pytest.raises(InvalidRequest, match="text to speak") as caught:
        clean_request(SpeechRequest(model="m", voice="v", input="\x00\x01\x02"))
    assert caught.value.param == "input"
