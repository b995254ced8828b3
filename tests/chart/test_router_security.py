"""router.security: the env the chart renders is what the router's settings model reads,
and secrets reach the router only by reference."""

from __future__ import annotations

import re
from typing import Any

import helm_python as helm
import pytest
from pydantic import BaseModel

from chart.rendering import Rendering, chart, pod_spec, render, render_ci, value_sets
from chart.router_env import PREFIX, load_router_settings, router_container, router_env
from chorus_router.security.settings import SecuritySettings

HS256 = {
    "router": {
        "security": {
            "mode": "jwt",
            "jwt": {
                "algorithm": "HS256",
                "issuer": "https://id.example.com",
                "audience": "chorus",
                "secret": {"existingSecret": "chorus-jwt", "existingSecretKey": "hs256"},
            },
        }
    }
}
JWKS_URL = {
    "router": {
        "security": {
            "mode": "jwt",
            "jwt": {
                "issuer": "https://id.example.com",
                "audience": "chorus",
                "jwksUrl": "https://id.example.com/.well-known/jwks.json",
            },
        }
    }
}
CREDENTIALS_IN_URL = re.compile(r"://[^/@\s]*:[^/@\s]*@")


def _renderings() -> list[tuple[str, Rendering]]:
    sets = [(name, render_ci(name)) for name in value_sets()]
    return [*sets, ("hs256", render(HS256)), ("jwks-url", render(JWKS_URL))]


def _env_names(model: type[BaseModel], prefix: str) -> set[str]:
    """Every env name pydantic-settings maps onto `model`'s fields (nested with `__`)."""
    names: set[str] = set()
    for field, info in model.model_fields.items():
        name = f"{prefix}{field.upper()}"
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names |= _env_names(annotation, f"{name}__")
        else:
            names.add(name)
    return names


SECURITY_ENV = _env_names(SecuritySettings, f"{PREFIX}SECURITY__")


@pytest.mark.parametrize(
    ("name", "rendering"), _renderings(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_rendered_security_env_is_what_the_router_reads(
    name: str, rendering: Rendering, monkeypatch: pytest.MonkeyPatch
) -> None:
    rendered = {n for n in router_env(rendering) if n.startswith(f"{PREFIX}SECURITY__")}
    assert rendered - SECURITY_ENV == set(), name
    settings = load_router_settings(rendering, monkeypatch)
    values = chart().merge_values(rendering.values)["router"]["security"]
    security = settings.security
    assert security.mode.value == values["mode"]
    limits = values["rateLimits"]
    assert security.rate_limits.synthesis_per_minute == limits["synthesisPerMinute"]
    assert security.rate_limits.characters_per_minute == limits["charactersPerMinute"]
    assert security.rate_limits.uploads_per_hour == limits["uploadsPerHour"]
    cors = values["cors"]
    assert security.cors.allow_origins == cors["allowOrigins"]
    assert security.cors.allow_methods == cors["allowMethods"]
    assert security.cors.allow_headers == cors["allowHeaders"]
    assert security.cors.allow_credentials is cors["allowCredentials"]
    assert security.cors.max_age_s == cors["maxAgeSeconds"]
    if values["mode"] == "jwt":
        assert security.jwt.issuer == values["jwt"]["issuer"]
        assert security.jwt.audience == values["jwt"]["audience"]
        assert security.jwt.algorithm == values["jwt"]["algorithm"]
        assert security.jwt.scopes_claim == values["jwt"]["scopesClaim"]
        assert security.jwt.problems() == []


def test_the_value_sets_cover_api_key_and_jwt(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_router_settings(render_ci("default"), monkeypatch).security.mode == "none"
    assert (
        load_router_settings(render_ci("hardened-minimal"), monkeypatch).security.mode == "api_key"
    )
    secure = load_router_settings(render_ci("secure"), monkeypatch).security
    assert (secure.mode, secure.jwt.algorithm) == ("jwt", "RS256")


@pytest.mark.parametrize(
    ("name", "rendering"), _renderings(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_secrets_are_never_plain_values(name: str, rendering: Rendering) -> None:
    assert rendering.of_kind("Secret") == []
    env = router_env(rendering)
    jwt_secret = env.get(f"{PREFIX}SECURITY__JWT__SECRET")
    if jwt_secret is not None:
        assert "value" not in jwt_secret
        assert jwt_secret["valueFrom"]["secretKeyRef"] == {"name": "chorus-jwt", "key": "hs256"}
    assert f"{PREFIX}SECURITY__JWT__SECRET_FILE" not in env
    for doc in rendering.documents:
        assert not CREDENTIALS_IN_URL.search(str(doc)), (name, doc["kind"])


def test_redis_url_from_a_secret() -> None:
    entry = router_env(render_ci("hardened-minimal"))[f"{PREFIX}SECURITY__RATE_LIMITS__STORAGE_URL"]
    assert entry == {
        "name": f"{PREFIX}SECURITY__RATE_LIMITS__STORAGE_URL",
        "valueFrom": {"secretKeyRef": {"name": "chorus-redis", "key": "url"}},
    }
    assert f"{PREFIX}SECURITY__RATE_LIMITS__STORAGE_URL" not in router_env(render_ci("default"))


def test_jwks_file_is_mounted_read_only() -> None:
    rendering = render_ci("secure")
    env = router_env(rendering)
    path = env[f"{PREFIX}SECURITY__JWT__JWKS_FILE"]["value"]
    mounts = {m["name"]: m for m in router_container(rendering)["volumeMounts"]}
    assert mounts["jwks"]["readOnly"] is True
    assert path == f"{mounts['jwks']['mountPath']}/jwks.json"
    volumes = {
        v["name"]: v for v in pod_spec(rendering.named("Deployment", "chorus-router"))["volumes"]
    }
    assert volumes["jwks"]["secret"]["secretName"] == "chorus-idp-jwks"
    assert volumes["jwks"]["secret"]["items"] == [{"key": "keys.json", "path": "jwks.json"}]
    for other in (render(JWKS_URL), render(HS256), render_ci("default")):
        assert "jwks" not in {
            v["name"] for v in pod_spec(other.named("Deployment", "chorus-router"))["volumes"]
        }
        assert f"{PREFIX}SECURITY__JWT__JWKS_FILE" not in router_env(other)


def _security(**block: Any) -> dict[str, Any]:
    return {"router": {"security": block}}


JWT = {"issuer": "https://id", "audience": "chorus"}


@pytest.mark.parametrize(
    ("values", "where"),
    [
        (_security(mode="oauth"), "/router/security/mode"),
        (_security(mode="jwt", jwt={"algorithm": "ES256"}), "algorithm"),
        (_security(mode="jwt", jwt={"audience": "chorus", "jwksUrl": "https://id/k"}), "issuer"),
        (
            _security(mode="jwt", jwt={"issuer": "https://id", "jwksUrl": "https://id/k"}),
            "audience",
        ),
        (_security(mode="jwt", jwt={**JWT, "algorithm": "HS256"}), "existingSecret"),
        (_security(mode="jwt", jwt=JWT), "oneOf"),
        (
            _security(
                mode="jwt", jwt={**JWT, "jwksUrl": "https://id/k", "jwks": {"secretName": "k"}}
            ),
            "oneOf",
        ),
        (
            _security(
                mode="jwt",
                jwt={**JWT, "jwksUrl": "https://id/k", "secret": {"existingSecret": "s"}},
            ),
            "existingSecret",
        ),
        (_security(jwt={"jwksUrl": "id.example.com/keys"}), "jwksUrl"),
        (_security(jwt={"secret": {"value": "plain"}}), "value"),
        (_security(rateLimits={"storageUrl": "redis://:hunter2@redis:6379"}), "storageUrl"),
        (_security(rateLimits={"storageUrl": "mongodb://db"}), "storageUrl"),
        (
            _security(
                rateLimits={"storageUrl": "redis://r:6379", "existingSecret": "chorus-redis"}
            ),
            "rateLimits",
        ),
        (_security(rateLimits={"synthesisPerMinute": 0}), "synthesisPerMinute"),
        (_security(cors={"allowOrigins": ["example.com"]}), "allowOrigins"),
        (_security(cors={"allowMethods": ["FETCH"]}), "allowMethods"),
        (_security(cors={"allowOrigins": ["*"], "allowCredentials": True}), "allowOrigins"),
        (_security(cors={"maxAgeSeconds": 90000}), "maxAgeSeconds"),
    ],
)
def test_security_mistakes_are_refused(values: dict[str, Any], where: str) -> None:
    with pytest.raises(helm.HelmValuesError) as caught:
        chart().validate_schema(values)
    assert where in str(caught.value)


def test_valid_security_blocks_pass_the_schema() -> None:
    for values in (
        HS256,
        JWKS_URL,
        _security(mode="api_key"),
        _security(cors={"allowOrigins": ["*"]}),
    ):
        chart().validate_schema(values)
