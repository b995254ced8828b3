"""The `providers` map becomes TTSProvider resources: which ones, and with what spec."""

from __future__ import annotations

from typing import Any

import yaml
from images.dockerfiles import gpu_services

from chart.rendering import REPO, Rendering, render, render_ci
from chorus_operator.images import ImageDefaults


def _providers(rendering: Rendering) -> dict[str, dict[str, Any]]:
    return {p["metadata"]["name"]: p["spec"] for p in rendering.of_kind("TTSProvider")}


def test_default_install_runs_the_local_cpu_engines() -> None:
    providers = _providers(render_ci("default"))
    assert sorted(providers) == ["espeak", "kokoro", "piper"]
    assert {spec["kind"] for spec in providers.values()} == {"local"}


def test_cloud_providers_appear_once_a_secret_is_named() -> None:
    named = {"providers": {"openai": {"spec": {"credentials": {"secretName": "openai-key"}}}}}
    providers = _providers(render(named))
    openai = providers["openai"]
    assert openai["kind"] == "cloud"
    assert openai["credentials"] == {
        "secretName": "openai-key",
        "key": "api-key",
        "env": "CHORUS_OPENAI_API_KEY",
    }
    assert "elevenlabs" not in providers
    assert "openai: skipped" not in render(named).notes
    assert "elevenlabs: skipped" in render(named).notes


def test_cloud_only_runs_no_local_engine() -> None:
    providers = _providers(render_ci("cloud-only"))
    assert sorted(providers) == ["elevenlabs", "openai"]
    assert providers["elevenlabs"]["credentials"]["env"] == "CHORUS_ELEVENLABS_API_KEY"


def test_gpu_providers_only_when_asked() -> None:
    assert "kokoro-gpu" not in _providers(render_ci("default"))
    gpu = _providers(render_ci("gpu"))["kokoro-gpu"]
    assert gpu["kind"] == "gpu"
    assert gpu["image"] == "registry.example.com/chorus/chorus-kokoro-gpu:0.1.0"
    assert "replicas" not in gpu  # autoscaling owns the count
    assert gpu["autoscaling"]["maxReplicas"] == 3


def test_disabled_providers_are_not_rendered() -> None:
    providers = _providers(render({"providers": {"kokoro": {"enabled": False}}}))
    assert "kokoro" not in providers


def test_a_new_provider_is_one_values_entry() -> None:
    """Any OpenAI-compatible server joins as a cloud-kind entry with the openai image."""
    env = [{"name": "CHORUS_OPENAI_BASE_URL", "value": "http://speaches:8000/v1"}]
    entry = {
        "enabled": True,
        "image": {"repository": "chorus-openai"},
        "spec": {
            "kind": "cloud",
            "models": ["speaches"],
            "credentials": {"secretName": "speaches-key", "env": "CHORUS_OPENAI_API_KEY"},
            "env": env,
        },
    }
    spec = _providers(render({"providers": {"speaches": entry}}))["speaches"]
    assert spec["image"] == "chorus-openai:0.1.0"
    assert spec["env"] == env


def test_fallbacks_name_providers_of_the_same_release(rendering: Rendering) -> None:
    providers = _providers(rendering)
    for name, spec in providers.items():
        for target in spec.get("routing", {}).get("fallback", []):
            assert target in providers, f"{name} falls back to {target}, which is not rendered"


def test_pull_policy_follows_global() -> None:
    providers = _providers(render_ci("hardened-minimal"))
    assert {spec["imagePullPolicy"] for spec in providers.values()} == {"Always"}


def test_operator_examples_work_with_the_chart() -> None:
    """The examples apply next to a release: its namespace, no name the chart already uses,
    fallbacks that exist, and the chart's own images (or a GPU provider's) once the operator
    completes them."""
    secret = {"spec": {"credentials": {"secretName": "key"}}}
    every = {"kokoro-gpu": {"enabled": True}, "openai": secret, "elevenlabs": secret}
    chart_names = {
        p["metadata"]["name"] for p in render({"providers": every}).of_kind("TTSProvider")
    }
    registry = {"global": {"imageRegistry": "registry.example/acme", "imageTag": "1.2.3"}}
    released = render({**registry, "providers": every})
    chart_images = {p["spec"]["image"] for p in released.of_kind("TTSProvider")}
    env = {
        var["name"]: var.get("value")
        for var in released.named("Deployment", "chorus-operator")["spec"]["template"]["spec"][
            "containers"
        ][0]["env"]
    }
    defaults = ImageDefaults(
        env["CHORUS_OPERATOR_IMAGE_REGISTRY"], env["CHORUS_OPERATOR_IMAGE_TAG"]
    )
    skaffold = yaml.safe_load((REPO / "skaffold.yaml").read_text())
    namespace = skaffold["deploy"]["helm"]["releases"][0]["namespace"]
    examples = sorted((REPO / "operator" / "examples").glob("*.yaml"))
    assert examples
    for path in examples:
        example = yaml.safe_load(path.read_text())
        assert example["metadata"]["namespace"] == namespace, path.name
        assert example["metadata"]["name"] not in chart_names, path.name
        assert set(example["spec"].get("routing", {}).get("fallback", [])) <= chart_names
        # GPU providers' images are built on request (GPU_IMAGES=1 make images), not charted.
        gpu_images = {defaults.resolve(service.package) for service in gpu_services()}
        assert defaults.resolve(example["spec"]["image"]) in chart_images | gpu_images, path.name
        assert f"-n {namespace}" in path.read_text(), f"{path.name} says where to apply it"
