"""SSML through the OpenAI SDK against the real local stack: pauses, rates and refusals,
measured on the decoded audio of espeak-ng, Piper and Kokoro."""

from __future__ import annotations

import io
import time
import wave
from collections.abc import Callable
from typing import Any

import httpx
import openai
import pytest
from openai import OpenAI

from chorus_provider.testing.silence import inner_silences, sounding_seconds
from support.stack import Stack

pytestmark = pytest.mark.e2e

ENGINES = ["espeak", "piper", "kokoro"]
SENTENCE = "The quick brown fox jumps over the lazy dog."


def _speak(client: OpenAI, model: str, text: str, **extra: Any) -> tuple[bytes, int, Any]:
    """The decoded audio (PCM, rate) and the response headers."""
    response = client.audio.speech.with_raw_response.create(
        model=model, voice="alloy", input=text, response_format="wav", extra_body=extra or None
    )
    with wave.open(io.BytesIO(response.content)) as audio:
        return audio.readframes(audio.getnframes()), audio.getframerate(), response.headers


@pytest.mark.parametrize("model", ENGINES)
def test_a_one_second_break_is_one_second_of_silence(client: OpenAI, model: str) -> None:
    pcm, rate, _ = _speak(
        client,
        model,
        'The first part ends here <break time="1s"/> and the second part follows.',
        input_format="ssml",
    )
    longest = inner_silences(pcm, rate)[0]
    assert longest == pytest.approx(1.0, abs=0.1)


@pytest.mark.parametrize("model", ENGINES)
def test_prosody_rate_stretches_and_squeezes_the_span(client: OpenAI, model: str) -> None:
    def spoken(rate: str | None) -> float:
        text = SENTENCE if rate is None else f'<prosody rate="{rate}">{SENTENCE}</prosody>'
        pcm, sample_rate, _ = _speak(client, model, f"<speak>{text}</speak>")
        return sounding_seconds(pcm, sample_rate)

    plain = spoken(None)
    assert spoken("slow") >= 1.2 * plain
    assert spoken("x-fast") < plain


@pytest.mark.parametrize("model", ENGINES)
def test_markup_is_never_read_aloud(client: OpenAI, model: str) -> None:
    ssml = (
        '<speak version="1.0" xmlns="http://www.w3.org/2001/10/synthesis" xml:lang="en-US">'
        '<emphasis level="strong">The quick</emphasis> brown <mark name="fox"/>fox '
        '<prosody volume="loud" pitch="high">jumps over</prosody> <break time="500ms"/>'
        'the <say-as interpret-as="cardinal">12</say-as> lazy dogs.</speak>'
    )
    marked, rate, _ = _speak(client, model, ssml)
    plain, plain_rate, _ = _speak(client, model, "The quick brown fox jumps over the 12 lazy dogs.")
    words_only = sounding_seconds(marked, rate) - 0.5
    # Read aloud, the tags and attributes would take several times the words' time.
    assert words_only == pytest.approx(sounding_seconds(plain, plain_rate), rel=0.3)


def test_dropped_elements_and_approximations_are_named_in_headers(client: OpenAI) -> None:
    _, _, headers = _speak(
        client,
        "piper",
        '<speak>Hello <audio src="bell.wav">there</audio> '
        '<prosody pitch="x-high">friend</prosody>.</speak>',
    )
    assert headers["X-Chorus-Markup-Dropped"] == "audio"
    assert headers["X-Chorus-Markup-Approximated"] == "prosody-pitch"


def _refusal(client: OpenAI, text: str) -> dict[str, Any]:
    with pytest.raises(openai.BadRequestError) as caught:
        _speak(client, "espeak", text, input_format="ssml")
    body = caught.value.body
    assert isinstance(body, dict)
    assert body["type"] == "invalid_request_error"
    assert body["param"] == "input"
    return body


def test_malformed_ssml_is_a_400_naming_line_and_column(client: OpenAI) -> None:
    error = _refusal(client, "<speak>\n  Hello <break time='1s'>\n</speak>")
    assert "line 3, column 3" in error["message"]
    assert "mismatched tag" in error["message"]


@pytest.mark.parametrize(
    ("ssml", "says"),
    [
        (
            # Billion laughs: nine levels of ten, 10^9 "lol"s if expanded.
            '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol0 "lol">'
            + "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
            + "]><speak>&lol9;</speak>",
            "DTD",
        ),
        ('<!DOCTYPE speak SYSTEM "file:///etc/passwd"><speak>x</speak>', "DTD"),
        ("<speak>&xxe;</speak>", "undefined entity"),
        ("<speak>" + "<s>" * 100 + "deep" + "</s>" * 100 + "</speak>", "nest deeper than 32"),
        ("<speak>" + "<s>" * 10_000 + "deep" + "</s>" * 10_000 + "</speak>", "maximum is"),
        ('<speak><break time="forever"/></speak>', "line 1, column 8: <break> time"),
    ],
)
def test_hostile_ssml_is_refused(
    client: OpenAI, ssml: str, says: str, record_property: Callable[[str, object], None]
) -> None:
    started = time.perf_counter()
    refusal = _refusal(client, ssml)
    elapsed = time.perf_counter() - started
    # The round trip through the router (docs/performance.md has the figures, from
    # --junitxml); the bound only says the parser stopped at once instead of expanding.
    record_property("refused_in_ms", round(elapsed * 1000, 1))
    assert says in refusal["message"]
    assert elapsed < 2.0


def test_the_preview_shows_the_segments_each_provider_gets(local_stack: Stack) -> None:
    ssml = (
        '<speak>Pay <say-as interpret-as="currency">$5</say-as> <break time="1s"/>'
        '<prosody pitch="high">now</prosody> <phoneme alphabet="ipa" ph="təˈmɑːtoʊ">tomato'
        "</phoneme> <blink>please</blink></speak>"
    )

    def preview(model: str) -> dict[str, Any]:
        response = httpx.post(
            f"{local_stack.router.url}/api/v1/audio/text/normalize",
            json={"model": model, "voice": "alloy", "input": ssml},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        shown: dict[str, Any] = response.json()
        return shown

    espeak, piper = preview("espeak"), preview("piper")
    assert espeak["text"] == piper["text"] == "Pay five dollars now tomato please"
    assert espeak["dropped"] == piper["dropped"] == ["blink"]
    assert espeak["approximated"] == ["phoneme"]
    assert piper["approximated"] == ["prosody-pitch"]
    said = [(s["text"], s["pause_ms"], s["pitch"], s["phonemes"]) for s in piper["segments"]]
    assert said == [
        ("Pay five dollars", 1000, None, None),
        ("now", 0, None, None),
        ("tomato", 0, None, "təˈmɑːtoʊ"),
        ("please", 0, None, None),
    ]
    assert [s["pitch"] for s in espeak["segments"]] == [None, "high", None]
