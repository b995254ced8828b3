from __future__ import annotations

import pytest

from chorus_contracts import ConfigurationError
from chorus_openai.settings import OpenAISettings


def test_defaults_front_openai_with_its_models_and_voices() -> None:
    settings = OpenAISettings.load()
    assert settings.base_url == "https://api.openai.com/v1"
    assert settings.port == 8104
    assert settings.models == ["tts-1", "tts-1-hd", "gpt-4o-mini-tts"]
    assert {"alloy", "coral", "marin"} <= set(settings.voices)


def test_the_key_comes_from_the_environment_and_never_shows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CHORUS_OPENAI_API_KEY", "sk-secret-value")
    monkeypatch.setenv("CHORUS_OPENAI_BASE_URL", "http://127.0.0.1:8880/v1")
    settings = OpenAISettings.load()
    assert settings.api_key is not None
    assert settings.api_key.get_secret_value() == "sk-secret-value"
    assert "sk-secret-value" not in repr(settings)
    assert "sk-secret-value" not in str(settings.model_dump())


def test_a_bad_base_url_stops_start_up_naming_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHORUS_OPENAI_BASE_URL", "api.openai.com")
    with pytest.raises(ConfigurationError, match="CHORUS_OPENAI_BASE_URL"):
        OpenAISettings.load()
