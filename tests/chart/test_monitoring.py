"""ServiceMonitors for the router and the providers; the Grafana dashboard as a ConfigMap."""

from __future__ import annotations

import json
from typing import Any

import yaml

from chart.rendering import CHART, ci_values, render, render_ci
from chorus_operator import naming

DEFAULT_RUNBOOK = "https://chorus.example.com/docs/runbook.md"
ROUTER_METRICS = (
    "tts_requests_total",
    "tts_time_to_first_byte_seconds",
    "tts_request_duration_seconds",
    "tts_fallback_attempts_total",
    "tts_circuit_breaker_state",
)


def _endpoint(monitor: dict[str, Any]) -> dict[str, Any]:
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["path"] == "/metrics"
    assert endpoint["port"] == "http"
    endpoint_: dict[str, Any] = endpoint
    return endpoint_


def test_monitors_only_when_asked() -> None:
    assert not render_ci("default").of_kind("ServiceMonitor")
    assert not render_ci("default").of_kind("ConfigMap")


def test_router_monitor_selects_the_router_service() -> None:
    rendering = render_ci("monitoring-on")
    monitor = rendering.named("ServiceMonitor", "chorus-router")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    service = rendering.named("Service", "chorus-router")
    assert (
        monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    )
    assert _endpoint(monitor)["interval"] == "15s"
    assert "http" in {port["name"] for port in service["spec"]["ports"]}


def test_one_monitor_covers_every_provider_service() -> None:
    monitor = render_ci("monitoring-on").named("ServiceMonitor", "chorus-providers")
    selector = monitor["spec"]["selector"]["matchLabels"]
    for kind in ("cloud", "local", "gpu"):
        assert selector.items() <= naming.child_labels("piper", kind).items()
    assert _endpoint(monitor)["port"] == naming.PORT_NAME
    (relabel,) = _endpoint(monitor)["relabelings"]
    assert relabel["sourceLabels"] == ["__meta_kubernetes_service_label_chorus_dev_provider"]
    assert naming.PROVIDER_LABEL == "chorus.dev/provider"


def test_dashboard_configmap_ships_every_dashboard_file() -> None:
    configmap = render_ci("monitoring-on").named("ConfigMap", "chorus-dashboards")
    assert configmap["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert configmap["metadata"]["annotations"] == {"grafana_folder": "Chorus"}
    files = sorted(p.name for p in (CHART / "dashboards").glob("*.json"))
    assert files
    assert sorted(configmap["data"]) == files
    for name, text in configmap["data"].items():
        assert json.loads(text) == json.loads((CHART / "dashboards" / name).read_text())


def test_dashboard_charts_the_router_metrics() -> None:
    dashboard = json.loads((CHART / "dashboards" / "chorus-overview.json").read_text())
    assert dashboard["uid"] == "chorus-overview"
    assert dashboard["title"]
    expressions = " ".join(
        target["expr"] for panel in dashboard["panels"] for target in panel["targets"]
    )
    for metric in ROUTER_METRICS:
        assert metric in expressions, metric
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    # Queries go to the data source picked on the dashboard, not to a hard-coded one.
    assert {panel["datasource"]["uid"] for panel in dashboard["panels"]} == {"${datasource}"}


def test_alert_rules_come_with_the_monitors() -> None:
    assert not render_ci("default").of_kind("PrometheusRule")
    rule = render_ci("monitoring-on").named("PrometheusRule", "chorus-alerts")
    assert rule["apiVersion"] == "monitoring.coreos.com/v1"
    assert rule["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    # Off on request even with the monitors on; on on request without them.
    off = {"metrics": {"serviceMonitor": {"enabled": True}, "prometheusRule": {"enabled": False}}}
    assert not render(off).of_kind("PrometheusRule")
    assert render({"metrics": {"prometheusRule": {"enabled": True}}}).of_kind("PrometheusRule")


def test_the_rule_is_the_plain_rules_file_with_the_runbook_base_replaced() -> None:
    rule = render_ci("monitoring-on").named("PrometheusRule", "chorus-alerts")
    plain = (CHART / "rules" / "chorus.rules.yaml").read_text()
    base = ci_values("monitoring-on")["metrics"]["prometheusRule"]["runbookBaseUrl"]
    expected = yaml.safe_load(plain.replace(DEFAULT_RUNBOOK, base))["groups"]
    assert rule["spec"]["groups"] == expected
    alerts = [r for g in rule["spec"]["groups"] for r in g["rules"] if "alert" in r]
    assert alerts
    for alert in alerts:
        assert alert["annotations"]["runbook_url"].startswith(f"{base}#"), alert["alert"]
