from __future__ import annotations

from pathlib import Path

import pytest

from chorus_contracts import ConfigurationError
from chorus_kokoro.settings import KokoroSettings


def test_defaults_use_the_pypi_model_and_speak_english() -> None:
    settings = KokoroSettings.load()
    assert (settings.port, settings.lang, settings.model_path) == (8103, "en-us", None)
    assert settings.data_dir.name == "kokoro"
    assert settings.execution_provider == "auto"


def test_the_environment_points_at_other_model_files(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHORUS_KOKORO_MODEL_PATH", "/models/kokoro-v1.0.onnx")
    monkeypatch.setenv("CHORUS_KOKORO_VOICES_PATH", "/models/voices-v1.0.bin")
    monkeypatch.setenv("CHORUS_KOKORO_THREADS", "4")
    settings = KokoroSettings.load()
    assert settings.model_path == Path("/models/kokoro-v1.0.onnx")
    assert settings.voices_path == Path("/models/voices-v1.0.bin")
    assert settings.threads == 4


def test_a_bad_value_names_its_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHORUS_KOKORO_EXECUTION_PROVIDER", "tpu")
    with pytest.raises(ConfigurationError, match="CHORUS_KOKORO_EXECUTION_PROVIDER"):
        KokoroSettings.load()
