"""The router container's environment as the chart renders it, and the settings the router
would load from it (Secrets standing in by reference)."""

from __future__ import annotations

import os
from typing import Any

import pytest

from chart.rendering import Rendering, pod_spec
from chorus_router.settings import RouterSettings

PREFIX = "CHORUS_ROUTER_"
# What a Secret would hold, by the env name it is referenced from.
SECRET_STANDINS = {
    f"{PREFIX}DATABASE_URL": "postgresql://chorus:pw@db:5432/chorus",
    f"{PREFIX}SECURITY__JWT__SECRET": "s" * 32,
    f"{PREFIX}SECURITY__RATE_LIMITS__STORAGE_URL": "redis://:pw@redis:6379/0",
    f"{PREFIX}ARTIFACTS__S3__ACCESS_KEY_ID": "AKIAEXAMPLE",
    f"{PREFIX}ARTIFACTS__S3__SECRET_ACCESS_KEY": "s3-secret-standin",
    f"{PREFIX}ARTIFACTS__LINKS__SIGNING_KEY": "k" * 40,
    f"{PREFIX}JOBS__QUEUE_URL": "redis://:pw@redis:6379/1",
}


def router_container(rendering: Rendering) -> dict[str, Any]:
    (container,) = pod_spec(rendering.named("Deployment", "chorus-router"))["containers"]
    return container  # type: ignore[no-any-return]


def router_env(rendering: Rendering) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in router_container(rendering)["env"]}


def load_router_settings(rendering: Rendering, monkeypatch: pytest.MonkeyPatch) -> RouterSettings:
    """RouterSettings as the router pod would load them, Secrets standing in by reference."""
    for name in [n for n in os.environ if n.startswith(PREFIX)]:
        monkeypatch.delenv(name)
    for name, entry in router_env(rendering).items():
        if not name.startswith(PREFIX):
            continue
        if "valueFrom" in entry:
            assert "secretKeyRef" in entry["valueFrom"], name
            monkeypatch.setenv(name, SECRET_STANDINS[name])
        else:
            monkeypatch.setenv(name, entry["value"])
    return RouterSettings.load()
