"""Idle unload over HTTP: readiness says the weights are gone, the next request loads them."""

from __future__ import annotations

import time

import httpx

from chorus_provider.testing import ServiceProcess


def _detail(dia: ServiceProcess) -> str:
    response = httpx.get(f"{dia.url}/readyz", timeout=5)
    assert response.status_code == 200  # unloaded is still ready: it reloads on demand
    detail: str = response.json()["detail"]
    return detail


def test_an_idle_model_is_unloaded_and_reloaded_by_the_next_request(dia: ServiceProcess) -> None:
    deadline = time.monotonic() + 30
    while "unloaded" not in _detail(dia):
        assert time.monotonic() < deadline, "the model stayed loaded while idle"
        time.sleep(0.2)
    body = {"text": "[S1] Back again.", "voice": "S1", "extra": {"max_new_tokens": 8}}
    response = httpx.post(f"{dia.url}/v1/synthesize", json=body, timeout=60)
    assert response.status_code == 200  # the weights came back for it
    assert len(response.content) > 0
