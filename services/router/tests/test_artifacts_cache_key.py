"""Everything that changes the audio changes the cache key; nothing else does."""

from __future__ import annotations

import dataclasses

import pytest

from chorus_router.artifacts.cache_key import ResponseIdentity, cache_key

BASE = ResponseIdentity(
    provider="piper",
    model_id="sha256:abc",
    model="tts-1",
    voice="joe",
    text="Hello there.",
    speed=1.0,
    response_format="mp3",
)


def test_equal_requests_have_equal_keys() -> None:
    copy = dataclasses.replace(BASE, extra={"b": 1, "a": 2})
    assert cache_key(copy) == cache_key(dataclasses.replace(BASE, extra={"a": 2, "b": 1}))
    assert len(cache_key(BASE)) == 64


@pytest.mark.parametrize(
    "change",
    [
        {"provider": "kokoro"},
        {"model_id": "sha256:def"},
        {"model": "tts-1-hd"},
        {"voice": "amy"},
        {"text": "Hello there!"},
        {"speed": 1.25},
        {"response_format": "wav"},
        {"language": "en-gb"},
        {"instructions": "Cheerfully."},
        {"extra": {"seed": 1}},
        {"voice_sample_sha256": "ff" * 32, "tenant": "alice"},
    ],
)
def test_each_field_changes_the_key(change: dict[str, object]) -> None:
    assert cache_key(dataclasses.replace(BASE, **change)) != cache_key(BASE)  # type: ignore[arg-type]


def test_the_same_custom_voice_sample_is_never_shared_across_tenants() -> None:
    alice = dataclasses.replace(BASE, voice_sample_sha256="ab" * 32, tenant="alice")
    assert cache_key(alice) != cache_key(dataclasses.replace(alice, tenant="bob"))
