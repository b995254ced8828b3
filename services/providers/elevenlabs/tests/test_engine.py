"""The engine against the ElevenLabs fake, a real HTTP server that keeps ElevenLabs' contract."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
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
    VoiceInfo,
)
from chorus_elevenlabs.engine import ElevenLabsEngine
from chorus_elevenlabs.settings import ElevenLabsSettings
from chorus_provider import CancelSignal
from fakes.process import FakeVendor

RACHEL = "21m00Tcm4TlvDq8ikWAM"
TEXT = "Hello from the fake."


SettingsFor = Callable[..., ElevenLabsSettings]


async def collect(engine: ElevenLabsEngine, **fields: Any) -> bytes:
    request = SynthesisRequest(**{"text": TEXT, "voice": RACHEL, **fields})
    chunks = [chunk async for chunk in engine.synthesize(request, CancelSignal())]
    assert all(len(chunk) % 2 == 0 for chunk in chunks), "a 16-bit sample was split"
    return b"".join(chunks)


async def test_voices_come_from_the_account(engine: ElevenLabsEngine) -> None:
    voices = {voice.id: voice for voice in engine.capabilities().voices}
    assert voices[RACHEL] == VoiceInfo(id=RACHEL, name="Rachel", language="en-us", gender="female")
    assert len(voices) == 3


async def test_streams_pcm_at_the_configured_rate_with_the_clients_options(
    fake: FakeVendor, settings_for: SettingsFor
) -> None:
    engine = ElevenLabsEngine(settings_for(sample_rate=16_000))
    await engine.load()
    extra = {"voice_settings": {"stability": 0.3, "style": 0.5}, "seed": 7, "other": "ignored"}
    audio = await collect(engine, model="eleven_flash_v2_5", speed=1.1, language="en-US",
                          extra=extra)  # fmt: skip
    assert 0.4 < len(audio) / 2 / 16_000 < 3.0
    sent = fake.requests()[-1]
    assert sent["path"] == f"/v1/text-to-speech/{RACHEL}/stream"
    assert sent["query"] == {"output_format": "pcm_16000"}
    assert sent["json"] == {
        "text": TEXT,
        "model_id": "eleven_flash_v2_5",
        "voice_settings": {"stability": 0.3, "style": 0.5, "speed": 1.1},
        "seed": 7,
        "language_code": "en",
    }
    assert engine.capabilities().sample_rate == 16_000
    await engine.close()


async def test_model_comes_from_extra_then_the_request_then_the_default(
    engine: ElevenLabsEngine, fake: FakeVendor
) -> None:
    await collect(engine, model="elevenlabs")
    await collect(engine, model="eleven_v3", extra={"model_id": "eleven_turbo_v2_5"})
    sent = [r["json"]["model_id"] for r in fake.requests()[-2:]]
    assert sent == ["eleven_multilingual_v2", "eleven_turbo_v2_5"]


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"extra": {"voice_settings": {"stability": 2}}}, "extra_params"),
        ({"extra": {"voice_settings": {"loudness": 1}}}, "extra_params"),
        ({"speed": 2.0}, "speed"),
    ],
)
async def test_bad_options_are_refused_before_any_call(
    engine: ElevenLabsEngine, fake: FakeVendor, fields: dict[str, Any], param: str
) -> None:
    with pytest.raises(InvalidRequest) as caught:
        await collect(engine, **fields)
    assert caught.value.param == param
    assert [r for r in fake.requests() if r["method"] == "POST"] == []


async def test_vendor_failures_map_to_typed_errors(
    engine: ElevenLabsEngine, fake: FakeVendor
) -> None:
    fake.fail_next(429, retry_after=3)
    with pytest.raises(ProviderBusy) as busy:
        await collect(engine)
    assert busy.value.retry_after == 3
    fake.fail_next(500)
    with pytest.raises(UpstreamError):
        await collect(engine)
    fake.stall_next(3.0)
    with pytest.raises(UpstreamTimeout):
        await collect(engine)
    with pytest.raises(UnknownVoice):
        await collect(engine, voice="no-such-voice-id")


async def test_a_refused_key_fails_loading_with_the_reason(settings_for: SettingsFor) -> None:
    engine = ElevenLabsEngine(settings_for(api_key="xi-wrong-77777777"))
    with pytest.raises(ProviderMisconfigured, match="refused") as caught:
        await engine.load()
    assert "7777" not in caught.value.message
    await engine.close()


async def test_configured_voices_stand_in_when_listing_fails(
    fake: FakeVendor, settings_for: SettingsFor
) -> None:
    configured = [VoiceInfo(id="custom1", name="Custom")]
    engine = ElevenLabsEngine(settings_for(voices=configured))
    fake.fail_next(503)
    await engine.load()
    assert engine.capabilities().voices == configured
    await engine.close()


async def test_without_configured_voices_loading_retries_until_listing_works(
    fake: FakeVendor, settings_for: SettingsFor
) -> None:
    engine = ElevenLabsEngine(settings_for())
    fake.fail_next(500, count=2)
    await asyncio.wait_for(engine.load(), timeout=5)
    assert len(engine.capabilities().voices) == 3
    assert len(fake.requests()) == 3
    await engine.close()
