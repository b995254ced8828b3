"""A half-configured store stops start-up, naming what is missing; secrets never print."""

from __future__ import annotations

import pytest

from chorus_contracts import ConfigurationError
from chorus_router.settings import RouterSettings

S3 = "CHORUS_ROUTER_ARTIFACTS__"


def _load(monkeypatch: pytest.MonkeyPatch, **env: str) -> RouterSettings:
    for key, value in env.items():
        monkeypatch.setenv(f"{S3}{key}", value)
    return RouterSettings.load()


def test_the_default_is_the_filesystem_with_the_cache_on() -> None:
    settings = RouterSettings()
    assert settings.artifacts.store == "filesystem"
    assert settings.artifacts.cache.enabled
    assert settings.artifacts.links.default_ttl_s == 3600


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        ({"STORE": "s3"}, "artifacts.s3.bucket is required"),
        ({"STORE": "s3", "S3__BUCKET": "audio"}, "artifacts.s3.region is required"),
        (
            {
                "STORE": "s3",
                "S3__BUCKET": "audio",
                "S3__REGION": "eu-west-1",
                "S3__ACCESS_KEY_ID": "AKIA",
            },
            "artifacts.s3.secret_access_key is required",
        ),
        ({"LINKS__SIGNED": "true"}, "artifacts.links.signing_key is required"),
        ({"LINKS__DEFAULT_TTL_S": "7200", "LINKS__MAX_TTL_S": "3600"}, "must not exceed"),
    ],
)
def test_half_configured_stores_name_the_missing_key(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], missing: str
) -> None:
    with pytest.raises(ConfigurationError, match=missing):
        _load(monkeypatch, **env)


def test_s3_credentials_stay_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _load(
        monkeypatch,
        STORE="s3",
        S3__BUCKET="audio",
        S3__ENDPOINT_URL="http://minio:9000",
        S3__ACCESS_KEY_ID="AKIAEXAMPLE",
        S3__SECRET_ACCESS_KEY="very-secret-value",
    )
    shown = repr(settings) + str(settings.model_dump())
    assert "very-secret-value" not in shown
    assert "AKIAEXAMPLE" not in shown
