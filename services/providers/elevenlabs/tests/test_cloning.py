"""Speaking in a clone of the request's reference sample, against the ElevenLabs fake."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import logging
import math
import struct
import wave
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from chorus_contracts import (
    ChorusError,
    InvalidRequest,
    ProviderBusy,
    ProviderMisconfigured,
    SynthesisRequest,
    UpstreamError,
    VoiceCloningUnsupported,
)
from chorus_elevenlabs.cloning import Reference
from chorus_elevenlabs.engine import ElevenLabsEngine
from chorus_elevenlabs.settings import ElevenLabsSettings
from chorus_provider import CancelSignal
from fakes.process import FakeVendor

ADD = "/v1/voices/add"


def wav(pitch: float, seconds: float = 0.5, rate: int = 24_000) -> bytes:
    """A mono 16-bit WAV like the router sends; each pitch is a different sample."""
    frames = b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * pitch * n / rate)))
        for n in range(int(seconds * rate))
    )
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(frames)
    return out.getvalue()


def clone_name(sample: bytes) -> str:
    return f"chorus-{hashlib.sha256(sample).hexdigest()[:16]}"


SettingsFor = Callable[..., ElevenLabsSettings]


async def speak(engine: ElevenLabsEngine, sample: bytes, voice: str = "voice_abc") -> bytes:
    request = SynthesisRequest(
        text="Say it like them.", voice=voice, voice_reference=base64.b64encode(sample).decode()
    )
    return b"".join([chunk async for chunk in engine.synthesize(request, CancelSignal())])


def calls(fake: FakeVendor, method: str, path: str | None = None) -> list[dict[str, Any]]:
    return [
        r for r in fake.requests() if r["method"] == method and (path is None or r["path"] == path)
    ]


def tts_voices(fake: FakeVendor) -> list[str]:
    return [r["path"].split("/")[3] for r in calls(fake, "POST") if r["path"] != ADD]


def fail_adds(fake: FakeVendor, status: int, retry_after: int | None = None) -> None:
    fault = {"status": status, "retry_after": retry_after, "path": ADD}
    httpx.post(f"{fake.url}/_fake/faults", json=fault, timeout=5).raise_for_status()


def set_voice_limit(fake: FakeVendor, limit: int) -> None:
    httpx.post(f"{fake.url}/_fake/voice-limit", json={"limit": limit}, timeout=5)


async def test_a_sample_is_cloned_once_and_its_clone_speaks_every_time(
    engine: ElevenLabsEngine, fake: FakeVendor
) -> None:
    sample = wav(220)
    assert await speak(engine, sample)
    assert await speak(engine, sample, voice="Ada")
    [add] = calls(fake, "POST", ADD)
    assert add["form"] == {"name": clone_name(sample)}
    assert add["files"] == [
        {
            "filename": "reference.wav",
            "content_type": "audio/wav",
            "bytes": len(sample),
            "sha256": hashlib.sha256(sample).hexdigest(),
        }
    ]
    voice_ids = tts_voices(fake)
    assert len(voice_ids) == 2
    assert len(set(voice_ids)) == 1
    assert voice_ids[0] not in ("voice_abc", "Ada")


async def test_concurrent_first_uses_clone_once(engine: ElevenLabsEngine, fake: FakeVendor) -> None:
    sample = wav(330)
    audio = await asyncio.gather(*(speak(engine, sample) for _ in range(6)))
    assert all(audio)
    assert len(calls(fake, "POST", ADD)) == 1
    assert len(set(tts_voices(fake))) == 1


async def test_a_restarted_provider_finds_its_clone_in_the_account(
    engine: ElevenLabsEngine, fake: FakeVendor, settings_for: SettingsFor
) -> None:
    sample = wav(440)
    await speak(engine, sample)
    restarted = ElevenLabsEngine(settings_for())
    await restarted.load()
    await speak(restarted, sample)
    await restarted.close()
    assert len(calls(fake, "POST", ADD)) == 1
    assert len(set(tts_voices(fake))) == 1
    # Clones are users' voices, never offered to everyone in the catalog.
    assert len(restarted.capabilities().voices) == 3


async def test_a_sample_forgotten_for_room_is_found_again_not_recloned(
    fake: FakeVendor, settings_for: SettingsFor
) -> None:
    engine = ElevenLabsEngine(settings_for(clone_cache_size=1))
    await engine.load()
    first, second = wav(500), wav(550)
    for sample in (first, second, first):
        await speak(engine, sample)
    await engine.close()
    assert len(calls(fake, "POST", ADD)) == 2


async def test_a_full_account_makes_room_by_deleting_the_least_recently_used_clone(
    engine: ElevenLabsEngine, fake: FakeVendor
) -> None:
    set_voice_limit(fake, 2)
    old, recent, new = wav(600), wav(650), wav(700)
    await speak(engine, old)
    await speak(engine, recent)
    old_id = tts_voices(fake)[0]
    await speak(engine, old)  # now `recent` is the least recently used
    recent_id = tts_voices(fake)[1]
    await speak(engine, new)
    [deleted] = calls(fake, "DELETE")
    assert deleted["path"] == f"/v1/voices/{recent_id}"
    assert [a["form"]["name"] for a in calls(fake, "POST", ADD)] == [
        clone_name(old), clone_name(recent), clone_name(new), clone_name(new)
    ]  # fmt: skip
    assert tts_voices(fake)[-1] not in (old_id, recent_id)


async def test_a_full_account_without_clones_of_ours_is_an_upstream_error(
    engine: ElevenLabsEngine, fake: FakeVendor
) -> None:
    set_voice_limit(fake, 0)
    with pytest.raises(UpstreamError, match="maximum amount of custom voices"):
        await speak(engine, wav(750))
    assert calls(fake, "DELETE") == []


async def test_a_clone_deleted_elsewhere_is_made_again(
    engine: ElevenLabsEngine, fake: FakeVendor
) -> None:
    sample = wav(800)
    await speak(engine, sample)
    gone = tts_voices(fake)[0]
    async with httpx.AsyncClient(base_url=fake.url, timeout=5) as vendor:
        deleted = await vendor.delete(f"/v1/voices/{gone}", headers={"xi-api-key": fake.api_key})
    assert deleted.status_code == 200
    assert await speak(engine, sample)
    assert len(calls(fake, "POST", ADD)) == 2
    assert tts_voices(fake)[-1] != gone


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (400, InvalidRequest),
        (422, InvalidRequest),
        (401, ProviderMisconfigured),
        (403, ProviderMisconfigured),
        (429, ProviderBusy),
    ],
)
async def test_clone_failures_map_to_typed_errors(
    engine: ElevenLabsEngine, fake: FakeVendor, status: int, expected: type[ChorusError]
) -> None:
    fail_adds(fake, status, retry_after=2)
    with pytest.raises(expected) as caught:
        await speak(engine, wav(900))
    assert type(caught.value) is expected
    if status == 429:
        assert caught.value.retry_after == 2
    # Nothing was cloned, so the next request tries again.
    await speak(engine, wav(900))
    assert len(calls(fake, "POST", ADD)) == 2


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("not base64!", "audio file.s bytes in base64"),
        (base64.b64encode(b"ID3" + bytes(500)).decode(), "not a WAV"),
        ("A" * 16_800_000, "over 12 MiB"),
    ],
)
async def test_a_bad_reference_is_refused_before_any_call(
    engine: ElevenLabsEngine, fake: FakeVendor, reference: str, message: str
) -> None:
    with pytest.raises(InvalidRequest, match=message) as caught:
        Reference.decode(reference)
    assert caught.value.param == "voice_reference"
    request = SynthesisRequest(text="Hi.", voice="voice_x", voice_reference=reference)
    with pytest.raises(InvalidRequest):
        await anext(aiter(engine.synthesize(request, CancelSignal())))
    assert calls(fake, "POST") == []


async def test_cloning_can_be_switched_off(fake: FakeVendor, settings_for: SettingsFor) -> None:
    engine = ElevenLabsEngine(settings_for(voice_cloning=False))
    await engine.load()
    assert engine.capabilities().voice_cloning is False
    with pytest.raises(VoiceCloningUnsupported):
        await speak(engine, wav(950))
    await engine.close()
    assert calls(fake, "POST") == []


async def test_neither_the_sample_nor_the_key_reaches_a_log(
    engine: ElevenLabsEngine, fake: FakeVendor, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sample = wav(1000)
    await speak(engine, sample)
    fail_adds(fake, 400)
    with pytest.raises(InvalidRequest):
        await speak(engine, wav(1050))
    assert clone_name(sample) in caplog.text
    assert fake.api_key not in caplog.text
    assert base64.b64encode(sample).decode()[200:260] not in caplog.text
