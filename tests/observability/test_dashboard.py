"""The Grafana dashboard the chart ships plots only metrics the services really export."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
METRIC_SOURCES = [
    REPO / "services/router/src/chorus_router/metrics.py",
    REPO / "libs/provider/src/chorus_provider/metrics.py",
]


def test_every_dashboard_metric_is_defined_by_a_service() -> None:
    defined = "\n".join(path.read_text() for path in METRIC_SOURCES)
    dashboard = json.loads((REPO / "charts/chorus/dashboards/chorus-overview.json").read_text())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel.get("targets", [])]
    names = {m for e in exprs for m in re.findall(r"\b(?:tts|chorus_provider)_[a-z_]+", e)}
    assert {
        "tts_requests_total",
        "tts_circuit_breaker_state",
        "chorus_provider_real_time_factor_bucket",
    } <= names
    for name in names:
        base = re.sub(r"_(total|bucket|count|sum)$", "", name)
        assert f'"{base}"' in defined, f"{name} is plotted but no service exports it"


def test_every_recorded_series_on_the_dashboard_is_recorded_by_the_rules() -> None:
    rules = yaml.safe_load((REPO / "charts/chorus/rules/chorus.rules.yaml").read_text())
    recorded = {r["record"] for g in rules["groups"] for r in g["rules"] if "record" in r}
    dashboard = json.loads((REPO / "charts/chorus/dashboards/chorus-overview.json").read_text())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel.get("targets", [])]
    used = {m for e in exprs for m in re.findall(r"\bchorus:[a-z0-9_:]+", e)}
    assert used, "the dashboard shows the SLO ratios"
    assert used <= recorded
