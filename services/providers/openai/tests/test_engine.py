"""The engine against the OpenAI fake, a real HTTP server that keeps OpenAI's contract."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from chorus_contracts import (
    InvalidRequest,
    ProviderBusy,
    ProviderMisconfigured,
    SynthesisRequest,
    UnknownVoice,
    UpstreamError,
    UpstreamTimeout,
)
from chorus_openai.engine import OpenAIEngine
from chorus_openai.settings import OpenAISettings
from chorus_provider import CancelSignal
from fakes.process import FakeVendor
from support.processes import wait_until

TEXT = "Hello from the fake."


def settings_for(fake: FakeVendor, **overrides: Any) -> OpenAISettings:
    values: dict[str, Any] = {
        "base_url": f"{fake.url}/v1",
        "api_key": fake.api_key,
        "read_timeout_s": 1.0,
        **overrides,
    }
    return OpenAISettings(**values)


@pytest.fixture
async def engine(fake: FakeVendor) -> AsyncIterator[OpenAIEngine]:
    engine = OpenAIEngine(settings_for(fake))
    await engine.load()
    yield engine
    await engine.close()


async def collect(engine: OpenAIEngine, **fields: Any) -> list[bytes]:
    request = SynthesisRequest(**{"text": TEXT, "voice": "coral", **fields})
    return [chunk async for chunk in engine.synthesize(request, CancelSignal())]


async def test_streams_the_vendors_pcm_and_passes_every_field(
    engine: OpenAIEngine, fake: FakeVendor
) -> None:
    chunks = await collect(
        engine, model="gpt-4o-mini-tts", speed=1.5, instructions="Sound cheerful."
    )
    assert len(chunks) > 1, "audio should arrive as a stream, not as one piece"
    assert all(len(chunk) % 2 == 0 for chunk in chunks), "a 16-bit sample was split"
    seconds = sum(map(len, chunks)) / 2 / 24_000
    assert 0.4 < seconds < 3.0
    sent = fake.requests()[-1]["json"]
    assert sent == {
        "model": "gpt-4o-mini-tts",
        "input": TEXT,
        "voice": "coral",
        "response_format": "pcm",
        "speed": 1.5,
        "instructions": "Sound cheerful.",
    }


async def test_a_model_alias_sends_the_default_model(
    engine: OpenAIEngine, fake: FakeVendor
) -> None:
    await collect(engine, model="openai")
    assert fake.requests()[-1]["json"]["model"] == "gpt-4o-mini-tts"


async def test_extras_are_forwarded_only_when_configured(fake: FakeVendor) -> None:
    engine = OpenAIEngine(settings_for(fake, forward_extra=True, instructions=False))
    # The fake, like OpenAI, refuses fields it does not know: proof the extra went out.
    with pytest.raises(InvalidRequest, match="Unrecognized request argument supplied: lang_code"):
        await collect(engine, extra={"lang_code": "a", "voice": "nova"}, instructions="x")
    sent = fake.requests()[-1]["json"]
    assert (sent["voice"], sent["lang_code"], "instructions" in sent) == ("coral", "a", False)
    await engine.close()


async def test_an_unknown_voice_is_refused_before_any_call(
    engine: OpenAIEngine, fake: FakeVendor
) -> None:
    with pytest.raises(UnknownVoice):
        await collect(engine, voice="joe")
    assert fake.requests() == []


async def test_a_refused_key_fails_loading_and_synthesis_without_showing_the_key(
    fake: FakeVendor,
) -> None:
    wrong = "sk-wrong-key-99999999"
    checking = OpenAIEngine(settings_for(fake, api_key=wrong))
    with pytest.raises(ProviderMisconfigured, match="refused") as at_load:
        await checking.load()
    unchecked = OpenAIEngine(settings_for(fake, api_key=wrong, verify_key=False))
    await unchecked.load()
    with pytest.raises(ProviderMisconfigured) as at_request:
        await collect(unchecked)
    for error in (at_load.value, at_request.value):
        assert not error.retryable
        assert wrong not in error.message
        assert "9999" not in error.message
    await checking.close()
    await unchecked.close()


async def test_rate_limits_are_busy_with_the_vendors_retry_after(
    engine: OpenAIEngine, fake: FakeVendor
) -> None:
    fake.fail_next(429, retry_after=7)
    with pytest.raises(ProviderBusy) as caught:
        await collect(engine)
    assert caught.value.retry_after == 7
    assert caught.value.retryable


async def test_server_errors_and_stalls_are_retryable(
    engine: OpenAIEngine, fake: FakeVendor
) -> None:
    fake.fail_next(500)
    with pytest.raises(UpstreamError) as server_error:
        await collect(engine)
    fake.stall_next(3.0)
    with pytest.raises(UpstreamTimeout) as stalled:
        await collect(engine)
    assert server_error.value.retryable
    assert stalled.value.retryable


async def test_bad_values_come_back_as_the_clients_error_with_openais_words(
    engine: OpenAIEngine,
) -> None:
    with pytest.raises(InvalidRequest, match="Invalid value for 'speed'") as caught:
        await collect(engine, speed=5.0)
    assert caught.value.param == "speed"


async def test_leaving_the_stream_closes_the_upstream_response(
    engine: OpenAIEngine, fake: FakeVendor
) -> None:
    fake.slow_next(0.3)
    chunks = engine.synthesize(SynthesisRequest(text=TEXT, voice="nova"), CancelSignal())
    assert await anext(chunks)
    assert fake.open_streams() == 1
    await chunks.aclose()  # type: ignore[attr-defined]
    assert wait_until(lambda: fake.open_streams() == 0, timeout_s=3.0)


def test_capabilities_say_instructions_and_24khz(engine: OpenAIEngine) -> None:
    caps = engine.capabilities()
    assert (caps.instructions, caps.streaming, caps.voice_cloning) == (True, True, False)
    assert caps.sample_rate == 24_000
    assert "marin" in {voice.id for voice in caps.voices}
