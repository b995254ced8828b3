"""Normalization and the preview endpoint, against real router and provider processes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from openai import OpenAI
from prometheus_client.parser import text_string_to_metric_families

from support.stack import Stack

pytestmark = pytest.mark.e2e

TEXT = (
    "On 2024-03-15 Dr. Smith paid $1,250.50 for it, and then at 3:30 pm he called "
    "(555) 123-4567 because the invoice was wrong. It was -5°C outside. "
    "See https://chorus.dev/docs or mail help@chorus.dev."
)


def _histogram(stack: Stack, provider: str, name: str) -> tuple[float, float]:
    """(count, sum) of one of a provider's own histograms."""
    text = httpx.get(f"{stack.providers[provider].url}/metrics", timeout=5).text
    family = next(f for f in text_string_to_metric_families(text) if f.name == name)
    values = {s.name.removeprefix(name): s.value for s in family.samples}
    return values["_count"], values["_sum"]


def _preview(stack: Stack, **body: Any) -> httpx.Response:
    return httpx.post(
        f"{stack.router.url}/api/v1/audio/text/normalize", json={"model": "espeak", **body}
    )


def test_the_preview_shows_what_the_provider_then_synthesizes(
    local_stack: Stack, client: OpenAI
) -> None:
    preview = _preview(local_stack, input=TEXT, voice="alloy")
    assert preview.status_code == 200, preview.text
    shown = preview.json()
    assert shown["provider"] == "espeak"
    for said in (
        "March fifteenth twenty twenty-four",
        "Doctor Smith",
        "one thousand two hundred and fifty dollars and fifty cents",
        "three thirty p m",
        "five five five, one two three, four five six seven",
        "minus five degrees Celsius",
        "chorus dot dev slash docs",
        "help at chorus dot dev",
    ):
        assert said in shown["text"]
    pieces = shown["pieces"]
    assert len(pieces[0].split()) <= 10, "the first piece is short"
    assert " ".join(pieces) == shown["text"]

    texts_before = _histogram(local_stack, "espeak", "chorus_provider_text_chars")
    pieces_before = _histogram(local_stack, "espeak", "chorus_provider_piece_chars")
    client.audio.speech.create(
        model="espeak", voice="alloy", input=TEXT, response_format="pcm"
    ).read()
    texts_after = _histogram(local_stack, "espeak", "chorus_provider_text_chars")
    pieces_after = _histogram(local_stack, "espeak", "chorus_provider_piece_chars")
    assert texts_after[0] - texts_before[0] == 1
    assert texts_after[1] - texts_before[1] == len(shown["text"])
    assert pieces_after[0] - pieces_before[0] == len(pieces)
    assert pieces_after[1] - pieces_before[1] == sum(len(p) for p in pieces)


def test_normalize_false_sends_the_text_as_written(local_stack: Stack, client: OpenAI) -> None:
    options = {"normalize": False}
    preview = _preview(local_stack, input=TEXT, normalization_options=options).json()
    assert preview["text"] == TEXT
    before = _histogram(local_stack, "espeak", "chorus_provider_text_chars")
    client.audio.speech.create(
        model="espeak",
        voice="alloy",
        input=TEXT,
        response_format="pcm",
        extra_body={"normalization_options": options},
    ).read()
    after = _histogram(local_stack, "espeak", "chorus_provider_text_chars")
    assert after[1] - before[1] == len(TEXT)


@pytest.mark.parametrize(
    ("options", "param"),
    [
        ({"url_normalization": "sometimes"}, "normalization_options.url_normalization"),
        ({"spell_everything": True}, "normalization_options.spell_everything"),
        ("all", "normalization_options"),
    ],
)
def test_malformed_options_are_a_400_naming_the_field(
    local_stack: Stack, options: object, param: str
) -> None:
    body = {"voice": "alloy", "input": "Hi.", "normalization_options": options}
    for response in (
        httpx.post(f"{local_stack.base_url}/audio/speech", json={"model": "espeak", **body}),
        _preview(local_stack, **body),
    ):
        assert response.status_code == 400, response.text
        assert response.json()["error"]["param"] == param


def test_a_blank_voice_in_the_preview_is_a_400_naming_it(local_stack: Stack) -> None:
    # The fuzzer's find: the preview's body took a voice of "\n" that the speech request
    # it builds refuses, which was a 500.
    response = _preview(local_stack, voice="\n", input="Hi.")
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == "voice"


def test_normalization_past_the_providers_limit_names_both_lengths(local_stack: Stack) -> None:
    text = "$1,000,000.01 " * 290
    response = httpx.post(
        f"{local_stack.base_url}/audio/speech",
        json={"model": "espeak", "voice": "alloy", "input": text},
    )
    assert response.status_code == 400, response.text
    message = response.json()["error"]["message"]
    assert f"input is {len(text)} characters" in message
    assert "after normalization" in message
    assert "at most 4096" in message
