from __future__ import annotations

import pytest

from chorus_contracts import ConfigurationError
from chorus_openai.settings import OpenAISettings


def test_defaults_front_openai_with_its_models_and_voices() -> None:
    settings = OpenAISettings.load()
    assert settings.base_url == "https://api.openai.com/v1"
    assert settings.port == 8104
    assert settings.models == ["tts-1", "tts-1-hd", "gpt-4o-mini-tts"]
    assert settings.voices is None, "OpenAI's voices unless the upstream lists its own"


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


def test_third_party_servers_are_described_in_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHORUS_OPENAI_EXTRA_BODY", '{"stream": true}')
    monkeypatch.setenv("CHORUS_OPENAI_MODEL_MAP", '{"tts-1": "kokoro"}')
    monkeypatch.setenv("CHORUS_OPENAI_CHUNKING", "sentence")
    settings = OpenAISettings.load()
    assert settings.extra_body == {"stream": True}
    assert settings.model_map == {"tts-1": "kokoro"}
    assert settings.chunking == "sentence"
    assert settings.voices is None, "unset: the upstream's list, when it has one"


@pytest.mark.parametrize(
    ("key", "value"),
    [("MODEL_MAP", "tts-1=kokoro"), ("EXTRA_BODY", "[1, 2]"), ("CHUNKING", "paragraph")],
)
def test_a_bad_value_names_its_variable(
    monkeypatch: pytest.MonkeyPatch, key: str, value: str
) -> None:
    monkeypatch.setenv(f"CHORUS_OPENAI_{key}", value)
    with pytest.raises(ConfigurationError, match=f"CHORUS_OPENAI_{key}"):
        OpenAISettings.load()
