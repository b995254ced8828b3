"""Security settings from YAML and nested environment variables; bad ones stop start-up."""

from __future__ import annotations

from pathlib import Path

import pytest

from chorus_contracts import ConfigurationError
from chorus_router.security import AuthMode
from chorus_router.settings import RouterSettings


def test_auth_is_off_by_default() -> None:
    assert RouterSettings().security.mode is AuthMode.NONE


def test_nested_environment_variables_override_the_yaml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "router.yaml"
    config.write_text(
        "security:\n"
        "  mode: api_key\n"
        "  rate_limits: {synthesis_per_minute: 5, uploads_per_hour: 2}\n"
    )
    monkeypatch.setenv("CHORUS_ROUTER_SECURITY__RATE_LIMITS__SYNTHESIS_PER_MINUTE", "7")
    monkeypatch.setenv("CHORUS_ROUTER_SECURITY__CORS__ALLOW_ORIGINS", '["https://app.example"]')

    security = RouterSettings.load(config).security

    assert security.mode is AuthMode.API_KEY
    assert security.rate_limits.synthesis_per_minute == 7
    assert security.rate_limits.uploads_per_hour == 2
    assert security.cors.allow_origins == ["https://app.example"]


def test_an_incomplete_jwt_configuration_names_what_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CHORUS_ROUTER_SECURITY__MODE", "jwt")
    monkeypatch.setenv("CHORUS_ROUTER_SECURITY__JWT__ISSUER", "https://id.example")

    with pytest.raises(ConfigurationError) as caught:
        RouterSettings.load()

    message = str(caught.value)
    assert "jwt.audience is required" in message
    assert "jwt.jwks_file" in message
    assert "jwt.issuer" not in message


def test_secrets_do_not_show_in_settings_dumps(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHORUS_ROUTER_SECURITY__RATE_LIMITS__STORAGE_URL", "redis://:pw0rd@r:6379")
    monkeypatch.setenv("CHORUS_ROUTER_SECURITY__JWT__SECRET", "s" * 40)

    shown = repr(RouterSettings.load())

    assert "pw0rd" not in shown
    assert "s" * 40 not in shown
