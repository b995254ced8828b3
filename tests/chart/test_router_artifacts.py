"""router.artifacts: the store the chart configures is the one the router loads, S3 keys and
the link-signing key arrive only by Secret reference, and half a store is refused."""

from __future__ import annotations

from typing import Any

import helm_python as helm
import pytest

from chart.rendering import chart, render, render_ci
from chart.router_env import PREFIX, SECRET_STANDINS, load_router_settings, router_env

MINIO = {
    "store": "s3",
    "s3": {
        "bucket": "chorus-audio",
        "endpointUrl": "http://minio.storage:9000",
        "existingSecret": "minio-keys",
        "accessKeyIdKey": "user",
        "secretAccessKeyKey": "password",
    },
    "cache": {"enabled": False},
}


def _artifacts(**block: Any) -> dict[str, Any]:
    return {"router": {"artifacts": block}}


def test_by_default_files_live_in_the_data_volume_with_the_cache_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = load_router_settings(render_ci("default"), monkeypatch)
    assert settings.artifacts.store == "filesystem"
    assert settings.artifacts.cache.enabled
    assert str(settings.data_dir) == "/var/lib/chorus"
    assert not [n for n in router_env(render_ci("default")) if "__S3__" in n]


def test_an_s3_compatible_store_reaches_the_router(monkeypatch: pytest.MonkeyPatch) -> None:
    rendering = render(_artifacts(**MINIO))
    env = router_env(rendering)
    assert env[f"{PREFIX}ARTIFACTS__S3__ACCESS_KEY_ID"]["valueFrom"] == {
        "secretKeyRef": {"name": "minio-keys", "key": "user"}
    }
    assert env[f"{PREFIX}ARTIFACTS__S3__SECRET_ACCESS_KEY"]["valueFrom"] == {
        "secretKeyRef": {"name": "minio-keys", "key": "password"}
    }
    artifacts = load_router_settings(rendering, monkeypatch).artifacts
    assert (artifacts.store, artifacts.s3.bucket) == ("s3", "chorus-audio")
    assert artifacts.s3.endpoint_url == "http://minio.storage:9000"
    assert artifacts.s3.secret_access_key is not None
    secret = artifacts.s3.secret_access_key.get_secret_value()
    assert secret == SECRET_STANDINS[f"{PREFIX}ARTIFACTS__S3__SECRET_ACCESS_KEY"]
    assert artifacts.cache.enabled is False


def test_the_hardened_install_keeps_audio_in_s3_with_signed_links(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rendering = render_ci("hardened-minimal")
    artifacts = load_router_settings(rendering, monkeypatch).artifacts
    assert (artifacts.store, artifacts.s3.region) == ("s3", "eu-west-1")
    assert artifacts.links.signed
    assert router_env(rendering)[f"{PREFIX}ARTIFACTS__LINKS__SIGNING_KEY"]["valueFrom"] == {
        "secretKeyRef": {"name": "chorus-link-signing", "key": "signing-key"}
    }


def test_lifetimes_and_bounds_reach_the_router(monkeypatch: pytest.MonkeyPatch) -> None:
    values = _artifacts(
        links={"defaultTtlSeconds": 600, "maxTtlSeconds": 7200, "maxBytesPerUser": 10485760},
        cache={"maxBytes": 2097152},
    )
    artifacts = load_router_settings(render(values), monkeypatch).artifacts
    assert (artifacts.links.default_ttl_s, artifacts.links.max_ttl_s) == (600, 7200)
    assert artifacts.links.max_bytes_per_user == 10485760
    assert artifacts.cache.max_bytes == 2097152


@pytest.mark.parametrize(
    ("values", "missing"),
    [
        (_artifacts(store="s3"), r"router\.artifacts\.s3\.bucket"),
        (_artifacts(store="s3", s3={"bucket": "audio"}), r"router\.artifacts\.s3\.region"),
        (_artifacts(links={"signed": True}), r"router\.artifacts\.links\.signingKey"),
        (
            {"router": {"replicaCount": 2, "database": {"existingSecret": "db"}}},
            r"router\.artifacts\.store",
        ),
    ],
)
def test_half_a_store_is_refused_naming_the_missing_value(
    values: dict[str, Any], missing: str
) -> None:
    with pytest.raises(helm.HelmRenderError, match=missing):
        render(values)


def test_replicas_may_share_a_read_write_many_volume() -> None:
    volume = {"enabled": True, "accessModes": ["ReadWriteMany"]}
    router = {"replicaCount": 2, "database": {"existingSecret": "db"}, "persistence": volume}
    assert render({"router": router}).named("Deployment", "chorus-router")["spec"]["replicas"] == 2


@pytest.mark.parametrize(
    ("values", "where"),
    [
        (_artifacts(store="gcs"), "store"),
        (_artifacts(s3={"endpointUrl": "minio:9000"}), "endpointUrl"),
        (_artifacts(s3={"secretAccessKey": "plain"}), "secretAccessKey"),
        (_artifacts(links={"maxTtlSeconds": 5}), "maxTtlSeconds"),
        (_artifacts(cache={"size": "1Gi"}), "size"),
    ],
)
def test_artifact_mistakes_are_refused_by_the_schema(values: dict[str, Any], where: str) -> None:
    with pytest.raises(helm.HelmValuesError) as caught:
        chart().validate_schema(values)
    assert where in str(caught.value)
