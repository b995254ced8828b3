"""SSML prosody for OpenAI: a sentence in gpt-4o-mini-tts's instructions, a speed for tts-1."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from chorus_contracts import SpeechSegment, SynthesisRequest
from chorus_openai.engine import OpenAIEngine
from chorus_openai.prosody import (
    MAX_INSTRUCTIONS_CHARS,
    MAX_SPANS,
    prosody_instructions,
    rate_as_speed,
    with_prosody,
)
from chorus_openai.settings import OpenAISettings
from chorus_provider import CancelSignal
from fakes.process import FakeVendor

SEGMENTS = [
    SpeechSegment(text="Listen"),
    SpeechSegment(text="right now", rate=0.7, volume_db=6.0),
    SpeechSegment(text="to this", pitch="x-high", emphasis="strong"),
    SpeechSegment(text="quietly", rate=1.1, pitch="-2st", volume_db=-6.0, emphasis="reduced"),
]


def test_each_styled_span_becomes_one_short_sentence() -> None:
    assert prosody_instructions(SEGMENTS) == (
        'Say "right now" slowly and louder. '
        'Say "to this" at a higher pitch and with emphasis. '
        'Say "quietly" a little quickly and at a lower pitch and more softly and lightly.'
    )
    assert prosody_instructions([SpeechSegment(text="plain", pitch="medium")]) is None


def test_the_sentence_is_bounded_and_follows_the_users_own() -> None:
    many = [SpeechSegment(text=f"word {i} " * 20, rate=0.5) for i in range(10)]
    said = prosody_instructions(many)
    assert said is not None
    assert said.count("Say ") == MAX_SPANS
    assert len(said) < 400
    assert (
        with_prosody("Sound calm.", SEGMENTS[:2])
        == 'Sound calm. Say "right now" slowly and louder.'
    )
    assert len(with_prosody("x" * 5000, SEGMENTS) or "") == MAX_INSTRUCTIONS_CHARS
    assert with_prosody("Sound calm.", None) == "Sound calm."


def test_tts1_hears_the_texts_rate_as_its_speed() -> None:
    segments = [SpeechSegment(text="ab", rate=0.5), SpeechSegment(text="cd", rate=1.5)]
    assert rate_as_speed(1.2, segments) == 1.2
    assert rate_as_speed(1.0, [SpeechSegment(text="slow", rate=0.5)]) == 0.5
    assert rate_as_speed(1.0, [SpeechSegment(text="fast", rate=4.0)] * 2) == 4.0
    assert rate_as_speed(0.9, None) == 0.9


@pytest.fixture
async def engine(fake: FakeVendor) -> AsyncIterator[OpenAIEngine]:
    engine = OpenAIEngine(OpenAISettings(base_url=f"{fake.url}/v1", api_key=fake.api_key))
    yield engine
    await engine.close()


async def send(engine: OpenAIEngine, fake: FakeVendor, model: str) -> dict[str, object]:
    request = SynthesisRequest(
        text="Listen right now to this quietly",
        voice="coral",
        model=model,
        instructions="Sound calm.",
        segments=SEGMENTS,
    )
    assert [chunk async for chunk in engine.synthesize(request, CancelSignal())]
    sent: dict[str, object] = fake.requests()[-1]["json"]
    return sent


async def test_gpt_4o_mini_tts_gets_the_prosody_in_its_instructions(
    engine: OpenAIEngine, fake: FakeVendor
) -> None:
    sent = await send(engine, fake, "gpt-4o-mini-tts")
    assert sent["instructions"] == f"Sound calm. {prosody_instructions(SEGMENTS)}"
    assert sent["speed"] == 1.0
    caps = engine.capabilities()
    assert "prosody-pitch" in caps.instructed_markup
    assert "prosody-pitch" not in caps.markup


async def test_tts1_gets_no_instructions_and_the_rate_as_speed(
    engine: OpenAIEngine, fake: FakeVendor
) -> None:
    sent = await send(engine, fake, "tts-1")
    assert "instructions" not in sent
    assert sent["speed"] == rate_as_speed(1.0, SEGMENTS) < 1.0
