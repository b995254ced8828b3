from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import Field
from pydantic_settings import SettingsConfigDict

from chorus_contracts import ConfigurationError, ServiceSettings


class DemoSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DEMO_", extra="forbid")

    port: int = Field(default=1, ge=1, le=65535)
    name: str = "default"


def test_environment_overrides_the_file_which_overrides_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "demo.yaml"
    config.write_text("port: 9000\nname: from-file\n")
    assert DemoSettings.load(config).port == 9000
    monkeypatch.setenv("DEMO_PORT", "9100")
    loaded = DemoSettings.load(config)
    assert (loaded.port, loaded.name) == (9100, "from-file")


def test_a_bad_value_names_its_key(tmp_path: Path) -> None:
    config = tmp_path / "demo.yaml"
    config.write_text("port: 70000\n")
    with pytest.raises(ConfigurationError, match=r"port \(env DEMO_PORT\)"):
        DemoSettings.load(config)


def test_unknown_keys_and_broken_files_stop_start_up(tmp_path: Path) -> None:
    config = tmp_path / "demo.yaml"
    config.write_text("prot: 1\n")
    with pytest.raises(ConfigurationError, match="prot"):
        DemoSettings.load(config)
    config.write_text("port: [1\n")
    with pytest.raises(ConfigurationError, match="not valid YAML"):
        DemoSettings.load(config)
    with pytest.raises(ConfigurationError, match="cannot read"):
        DemoSettings.load(tmp_path / "missing.yaml")
