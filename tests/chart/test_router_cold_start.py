"""router.coldStart: how long, and how many, requests the router holds for a provider scaled
to zero reach the router's settings; the schema refuses bounds the router would refuse."""

from __future__ import annotations

from typing import Any

import helm_python as helm
import pytest

from chart.rendering import chart, render
from chart.router_env import load_router_settings
from chorus_router.settings import RouterSettings


def test_by_default_the_router_holds_requests_as_its_own_defaults_say(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = load_router_settings(render({}), monkeypatch)
    defaults = RouterSettings.model_fields
    assert settings.cold_start_wait_s == defaults["cold_start_wait_s"].default
    assert settings.cold_start_max_waiting == defaults["cold_start_max_waiting"].default


def test_a_slow_gpu_start_gets_a_longer_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    values = {"router": {"coldStart": {"waitS": 600, "maxWaiting": 8}}}
    settings = load_router_settings(render(values), monkeypatch)
    assert (settings.cold_start_wait_s, settings.cold_start_max_waiting) == (600, 8)


@pytest.mark.parametrize(
    ("cold_start", "where"),
    [
        ({"waitS": 0}, "/router/coldStart/waitS"),
        ({"waitS": 3600}, "/router/coldStart/waitS"),
        ({"maxWaiting": 0}, "/router/coldStart/maxWaiting"),
        ({"maxWaiting": 2.5}, "/router/coldStart/maxWaiting"),
        ({"wait": 60}, "wait"),
    ],
)
def test_bounds_the_router_refuses_are_refused_with_their_key(
    cold_start: dict[str, Any], where: str
) -> None:
    with pytest.raises(helm.HelmValuesError) as caught:
        chart().validate_schema({"router": {"coldStart": cold_start}})
    assert where in str(caught.value)
