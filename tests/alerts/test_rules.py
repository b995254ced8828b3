"""The alerting rules, checked and unit-tested by promtool, and held to what on-call needs:
a severity, a runbook section that exists, bounded labels, and a test that fires each alert
and one where it stays quiet."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "charts" / "chorus" / "rules" / "chorus.rules.yaml"
RULE_TESTS = Path(__file__).with_name("chorus.rules.test.yaml")
RUNBOOK = REPO / "docs" / "runbook.md"
# What an alert's series may be grouped by: registry names and classes, never request data.
BOUNDED_LABELS = {"provider", "kind", "from", "operation"}


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        pytest.fail("promtool is missing: run `make test` (it installs Debian's prometheus)")
    return found


def _alerts() -> list[dict[str, Any]]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def test_promtool_checks_the_rules() -> None:
    done = subprocess.run(
        [promtool(), "check", "rules", str(RULES)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_promtool_unit_tests_pass() -> None:
    done = subprocess.run(
        [promtool(), "test", "rules", str(RULE_TESTS)],
        capture_output=True,
        text=True,
        check=False,
        cwd=RULE_TESTS.parent,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_alert_has_a_severity_and_a_runbook_section() -> None:
    anchors = {_anchor(h) for h in re.findall(r"^#+ (.+)$", RUNBOOK.read_text(), re.M)}
    for alert in _alerts():
        assert alert["labels"]["severity"] in {"page", "ticket"}, alert["alert"]
        assert set(alert["labels"]) == {"severity"}, alert["alert"]
        url = alert["annotations"]["runbook_url"]
        assert url.split("#")[1] in anchors, f"{alert['alert']}: no runbook section for {url}"
        assert alert["annotations"]["summary"]
        assert alert["annotations"]["description"]


def test_alerts_group_only_by_bounded_labels() -> None:
    for alert in _alerts():
        for grouping in re.findall(r"\b(?:by|on)\s*\(([^)]*)\)", alert["expr"]):
            labels = {label.strip() for label in grouping.split(",") if label.strip()}
            assert labels <= BOUNDED_LABELS, (alert["alert"], labels)


def test_every_alert_is_tested_firing_and_quiet() -> None:
    fired: set[str] = set()
    quiet: set[str] = set()
    for case in yaml.safe_load(RULE_TESTS.read_text())["tests"]:
        for check in case.get("alert_rule_test", []):
            (fired if check["exp_alerts"] else quiet).add(check["alertname"])
    names = {alert["alert"] for alert in _alerts()}
    assert names - fired == set(), "never shown firing"
    assert names - quiet == set(), "never shown quiet"


def _anchor(heading: str) -> str:
    """GitHub's anchor for a Markdown heading."""
    return re.sub(r"[^a-z0-9 _-]", "", heading.strip().lower()).replace(" ", "-")
