"""Runtime providers (vLLM-Omni, SGLang-Omni) and scaling on the speech queue, as rendered."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from chorus_operator.provider import ProviderResource
from chorus_operator.render import Children, Scaling, render

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
HPA = Scaling()
KEDA = Scaling("keda", "http://prometheus.monitoring:9090")


def _example(name: str, scaling: Scaling = HPA) -> Children:
    body = yaml.safe_load((EXAMPLES / name).read_text())
    body["metadata"] |= {"namespace": "voices", "uid": "uid-1", "generation": 1}
    return render(ProviderResource.from_body(body), {}, scaling=scaling)


def _pod(children: Children) -> dict[str, Any]:
    pod: dict[str, Any] = children.deployment["spec"]["template"]["spec"]
    return pod


def _init(children: Children, name: str) -> dict[str, Any]:
    return next(c for c in _pod(children)["initContainers"] if c["name"] == name)


def _env(container: dict[str, Any]) -> dict[str, str]:
    return {var["name"]: var.get("value", "") for var in container["env"]}


def test_the_engine_is_a_native_sidecar_with_the_gpu_weights_and_a_long_start_up() -> None:
    children = _example("qwen3-tts-customvoice.yaml")
    fetch, engine = _pod(children)["initContainers"]
    # The weights first (fetched by the engine's own image), then the engine.
    assert fetch["name"] == "fetch-model"
    assert fetch["image"] == "vllm/vllm-omni:latest"
    assert fetch["command"][:2] == ["sh", "-c"]
    assert "hf download Qwen/Qwen3-TTS-12Hz-1.7B-CustomVoice --revision main" in fetch["command"][2]
    assert engine["name"] == "engine"
    assert engine["restartPolicy"] == "Always"
    assert engine["command"] == [
        "vllm", "serve", "/models", "--omni",
        "--served-model-name", "Qwen/Qwen3-TTS-12Hz-1.7B-CustomVoice",
        "--host", "0.0.0.0", "--port", "8000",
        "--deploy-config", "vllm_omni/deploy/qwen3_tts.yaml", "--trust-remote-code",
    ]  # fmt: skip
    assert engine["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert {"name": "model", "mountPath": "/models", "readOnly": True} in engine["volumeMounts"]
    assert _env(engine)["HF_HUB_OFFLINE"] == "1"
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert engine[probe]["httpGet"] == {"path": "/health", "port": "engine"}
    startup = engine["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 30 * 60


def test_chorus_openai_fronts_the_engine_on_localhost_without_a_gpu() -> None:
    children = _example("qwen3-tts-customvoice.yaml")
    (front,) = _pod(children)["containers"]
    assert front["image"] == "chorus-openai"
    env = _env(front)
    assert env["CHORUS_OPENAI_BASE_URL"] == "http://127.0.0.1:8000/v1"
    assert env["CHORUS_OPENAI_UPSTREAM_HEALTH_URL"] == "http://127.0.0.1:8000/health"
    assert env["CHORUS_OPENAI_VERIFY_KEY"] == "false"
    assert env["CHORUS_OPENAI_DEFAULT_MODEL"] == "Qwen/Qwen3-TTS-12Hz-1.7B-CustomVoice"
    assert env["CHORUS_OPENAI_TASK_TYPE"] == "CustomVoice"
    # The engine batches: the front does not hold it to one provider's usual two streams.
    assert env["CHORUS_OPENAI_MAX_CONCURRENCY"] == "16"
    assert json.loads(env["CHORUS_OPENAI_EXTRA_BODY"]) == {"stream": True}
    assert "nvidia.com/gpu" not in json.dumps(front["resources"])
    assert not any(m["name"] == "model" for m in front["volumeMounts"])
    # The router reaches the contract's port only; the engine's is not in the Service.
    assert [port["port"] for port in children.service["spec"]["ports"]] == [8080]


def test_a_cloning_model_sends_references_and_a_pvc_mounts_into_the_engine() -> None:
    children = _example("qwen3-tts-base.yaml")
    (engine,) = _pod(children)["initContainers"]
    assert {
        "name": "model",
        "mountPath": "/models",
        "readOnly": True,
        "subPath": "Qwen3-TTS-12Hz-1.7B-Base",
    } in engine["volumeMounts"]
    env = _env(_pod(children)["containers"][0])
    assert (env["CHORUS_OPENAI_TASK_TYPE"], env["CHORUS_OPENAI_VOICE_CLONING"]) == ("Base", "true")


def test_sglang_omni_serves_by_model_path_and_name() -> None:
    engine = _init(_example("higgs-sglang.yaml", KEDA), "engine")
    assert engine["command"][:6] == [
        "sgl-omni", "serve", "--model-path", "/models",
        "--model-name", "bosonai/higgs-audio-v3-tts-4b",
    ]  # fmt: skip
    assert engine["image"] == "lmsysorg/sglang-omni:dev"


def test_the_default_autoscaler_is_an_hpa_on_queue_and_in_flight_per_replica() -> None:
    children = _example("qwen3-tts-customvoice.yaml")
    assert children.scaled_object is None
    assert children.autoscaler is not None
    metrics = children.autoscaler["spec"]["metrics"]
    assert [
        (m["pods"]["metric"]["name"], m["pods"]["target"]["averageValue"]) for m in metrics
    ] == [
        ("chorus_provider_queued_requests", "2"),
        ("chorus_provider_in_flight_requests", "8"),
    ]


def test_with_keda_installed_the_same_targets_become_prometheus_triggers() -> None:
    children = _example("qwen3-tts-customvoice.yaml", KEDA)
    assert children.autoscaler is None
    assert children.scaled_object is not None
    spec = children.scaled_object["spec"]
    assert spec["scaleTargetRef"]["name"] == "chorus-provider-qwen3-tts"
    assert (spec["minReplicaCount"], spec["maxReplicaCount"]) == (1, 4)
    queued, busy = spec["triggers"]
    assert queued["metadata"]["serverAddress"] == "http://prometheus.monitoring:9090"
    assert (
        'chorus_provider_queued_requests{namespace="voices",provider="qwen3-tts"}'
        in (queued["metadata"]["query"])
    )
    assert (queued["metadata"]["threshold"], busy["metadata"]["threshold"]) == ("2", "8")
    assert children.scaled_object["metadata"]["ownerReferences"][0]["uid"] == "uid-1"


@pytest.mark.parametrize("scaling", [HPA, KEDA], ids=["hpa-default", "keda"])
def test_scale_to_zero_is_keda_on_the_routers_waiting_gauge(scaling: Scaling) -> None:
    children = _example("qwen3-tts-base.yaml", scaling)
    assert children.autoscaler is None
    assert children.scaled_object is not None
    spec = children.scaled_object["spec"]
    assert spec["minReplicaCount"] == 0
    assert spec["cooldownPeriod"] == 900
    busy = next(t for t in spec["triggers"] if t["name"] == "busy")
    assert (
        'tts_cold_start_waiting_requests{provider="qwen3-tts-clone"}' in busy["metadata"]["query"]
    )
    # Any request waiting or in flight wakes it.
    assert busy["metadata"]["activationThreshold"] == "0"
    assert "replicas" not in children.deployment["spec"]
