"""The alert rules in a real Prometheus scraping a real router: killing the only provider
makes the not-ready alerts pending, then firing; bringing it back resolves them.

The rules are the shipped file with one change: every `for:` is cut to 2 s, so the test
waits seconds instead of minutes. Expressions, labels and annotations are as shipped.
"""

from __future__ import annotations

import re
import signal
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from support.processes import ServiceProcess, wait_until
from support.prometheus_server import PrometheusServer, prometheus_server
from support.stack import Stack, entry, start_router

RULES = Path(__file__).resolve().parents[2] / "charts" / "chorus" / "rules" / "chorus.rules.yaml"


@pytest.fixture
def router(tmp_path: Path, espeak: ServiceProcess) -> Iterator[ServiceProcess]:
    registry = tmp_path / "providers.yaml"
    Stack.write_registry_file(registry, [entry("espeak", espeak, ["espeak"])])
    proc = start_router(registry, tmp_path)
    try:
        proc.wait_ready("/healthz")
        yield proc
    finally:
        proc.stop()


@pytest.fixture
def prometheus(tmp_path: Path, router: ServiceProcess) -> Iterator[PrometheusServer]:
    fast = tmp_path / "chorus.rules.yaml"
    fast.write_text(re.sub(r"(?m)^(\s+for:) \S+$", r"\1 2s", RULES.read_text()))
    workdir = tmp_path / "prometheus"
    workdir.mkdir()
    with prometheus_server(workdir, {"chorus-router": [urlsplit(router.url).netloc]}, [fast]) as p:
        yield p


def test_a_killed_provider_fires_and_its_return_resolves(
    prometheus: PrometheusServer, espeak: ServiceProcess
) -> None:
    alert = "ChorusProviderNotReady"
    assert wait_until(lambda: _scraped(prometheus), timeout_s=30, interval_s=0.2)
    assert prometheus.alert_state(alert) is None

    espeak.signal(signal.SIGKILL)
    states: set[str | None] = set()

    def firing() -> bool:
        states.add(prometheus.alert_state(alert, provider="espeak", severity="ticket"))
        return "firing" in states

    assert wait_until(firing, timeout_s=60, interval_s=0.2), states
    assert "pending" in states
    assert prometheus.alert_state("ChorusNoProviderReady", severity="page") in (
        "pending",
        "firing",
    )
    (active,) = [a for a in prometheus.alerts() if a["labels"]["alertname"] == alert]
    assert active["annotations"]["runbook_url"].endswith("#chorusprovidernotready")

    assert wait_until(lambda: not espeak.alive(), timeout_s=10)
    espeak.start()
    espeak.wait_ready()
    assert wait_until(lambda: prometheus.alert_state(alert) is None, timeout_s=60, interval_s=0.2)


def _scraped(prometheus: PrometheusServer) -> bool:
    query = {"query": 'tts_provider_ready{provider="espeak"} == 1'}
    body = httpx.get(f"{prometheus.url}/api/v1/query", params=query, timeout=5).json()
    return bool(body["data"]["result"])
