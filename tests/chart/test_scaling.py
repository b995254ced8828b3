"""How the chart tells the operator to scale providers: KEDA present or absent."""

from __future__ import annotations

from typing import Any

from chart.rendering import Rendering, render_ci


def _operator_env(rendering: Rendering) -> dict[str, Any]:
    operator = rendering.named("Deployment", "chorus-operator")
    (container,) = operator["spec"]["template"]["spec"]["containers"]
    return {var["name"]: var.get("value") for var in container["env"]}


def test_without_keda_the_operator_renders_hpas_on_the_speech_queue() -> None:
    assert _operator_env(render_ci("default"))["CHORUS_OPERATOR_SCALER"] == "hpa"


def test_with_keda_the_operator_renders_scaled_objects_reading_prometheus() -> None:
    rendering = render_ci("keda")
    env = _operator_env(rendering)
    assert env["CHORUS_OPERATOR_SCALER"] == "keda"
    assert env["CHORUS_OPERATOR_PROMETHEUS_URL"] == "http://prometheus-operated.monitoring.svc:9090"
    (runtime,) = [p for p in rendering.of_kind("TTSProvider") if "runtime" in p["spec"]]
    assert runtime["spec"]["image"] == "registry.example.com/chorus/chorus-openai:0.1.0"
    assert runtime["spec"]["autoscaling"]["minReplicas"] == 0


def test_the_operator_may_manage_keda_scaled_objects() -> None:
    role = render_ci("default").named("Role", "chorus-operator")
    keda = [rule for rule in role["rules"] if rule["apiGroups"] == ["keda.sh"]]
    assert keda == [
        {
            "apiGroups": ["keda.sh"],
            "resources": ["scaledobjects"],
            "verbs": ["get", "create", "patch", "delete"],
        }
    ]
