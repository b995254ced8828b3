from __future__ import annotations

import pytest

from chorus_contracts import ConfigurationError
from chorus_elevenlabs.settings import ElevenLabsSettings


def test_defaults_stream_24khz_pcm_from_elevenlabs() -> None:
    settings = ElevenLabsSettings.load()
    assert (settings.base_url, settings.port, settings.sample_rate) == (
        "https://api.elevenlabs.io",
        8105,
        24_000,
    )
    assert settings.default_model in settings.models


def test_fallback_voices_come_as_json_and_the_key_never_shows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CHORUS_ELEVENLABS_API_KEY", "xi-secret")
    monkeypatch.setenv("CHORUS_ELEVENLABS_VOICES", '[{"id": "abc", "name": "Ann"}]')
    settings = ElevenLabsSettings.load()
    assert [voice.id for voice in settings.voices] == ["abc"]
    assert "xi-secret" not in repr(settings)


@pytest.mark.parametrize(
    ("env", "value", "key"),
    [
        ("CHORUS_ELEVENLABS_SAMPLE_RATE", "32000", "CHORUS_ELEVENLABS_SAMPLE_RATE"),
        ("CHORUS_ELEVENLABS_LIST_VOICES", "false", "voices"),
    ],
)
def test_bad_configuration_stops_start_up_with_the_reason(
    monkeypatch: pytest.MonkeyPatch, env: str, value: str, key: str
) -> None:
    monkeypatch.setenv(env, value)
    with pytest.raises(ConfigurationError, match=key):
        ElevenLabsSettings.load()
