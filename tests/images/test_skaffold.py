"""skaffold.yaml, the Dockerfiles and the chart agree: every service is built, and every image
the chart deploys is fed from the artifact that builds it."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
import yaml
from chart.rendering import RELEASE, merged_values, pod_spec, render

from images.dockerfiles import REPO, services, stages

SKAFFOLD = yaml.safe_load((REPO / "skaffold.yaml").read_text())
Config = dict[str, Any]


def _artifacts(config: Config) -> dict[str, dict[str, Any]]:
    return {a["image"]: a for a in config["build"]["artifacts"]}


def _release(config: Config) -> dict[str, Any]:
    (release,) = config["deploy"]["helm"]["releases"]
    release_: dict[str, Any] = release
    return release_


def _with_profile(name: str) -> Config:
    """The config as `skaffold -p <name>` sees it (JSON patches: add and replace)."""
    config = copy.deepcopy(SKAFFOLD)
    (profile,) = [p for p in config["profiles"] if p["name"] == name]
    for patch in profile.get("patches", []):
        *parents, last = patch["path"].strip("/").split("/")
        node: Any = config
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        if last == "-":
            node.append(patch["value"])
        else:
            assert patch["op"] in ("add", "replace")
            node[last] = patch["value"]
    result: Config = config
    return result


def _sanitized(image: str) -> str:
    return re.sub(r"[/\-.:]", "_", image)


def _image_paths(values: dict[str, Any]) -> set[str]:
    """Dotted paths of every image block in the chart's values (router.image, ...)."""
    paths = {f"{component}.image" for component in ("router", "operator")}
    paths |= {f"providers.{name}.image" for name in values["providers"]}
    return paths


def test_schema_is_current() -> None:
    match = re.fullmatch(r"skaffold/v4beta(\d+)", SKAFFOLD["apiVersion"])
    assert match, SKAFFOLD["apiVersion"]
    assert int(match.group(1)) >= 13
    assert SKAFFOLD["kind"] == "Config"


@pytest.mark.parametrize("profile", ["cpu-only", "gpu"])
def test_every_artifact_builds_from_an_existing_dockerfile(profile: str) -> None:
    for image, artifact in _artifacts(_with_profile(profile)).items():
        assert artifact["context"] == "."  # the workspace is the build context
        dockerfile = REPO / artifact["docker"]["dockerfile"]
        assert dockerfile.is_file(), image
        names = [s.name for s in stages(dockerfile)]
        assert artifact["docker"].get("target", names[-1]) in names


def test_every_service_is_built_from_its_dockerfile_with_its_build_arguments() -> None:
    artifacts = _artifacts(SKAFFOLD)
    for service in services():
        docker = artifacts[service.image]["docker"]
        assert docker["dockerfile"] == str(service.dockerfile.relative_to(REPO)), service.package
        assert docker.get("buildArgs", {}) == service.build_args, service.package


@pytest.mark.parametrize("profile", ["cpu-only", "gpu"])
def test_every_artifact_feeds_a_chart_image_value(profile: str) -> None:
    config = _with_profile(profile)
    templates = _release(config)["setValueTemplates"]
    paths = _image_paths(merged_values({}))
    for image in _artifacts(config):
        key = _sanitized(image)
        fed = [p for p in paths if templates.get(f"{p}.repository") == f"{{{{.IMAGE_REPO_{key}}}}}"]
        assert fed, f"no chart image value is fed from artifact {image}"
        for path in fed:
            tag = templates[f"{path}.tag"]
            assert tag == f"{{{{.IMAGE_TAG_{key}}}}}@{{{{.IMAGE_DIGEST_{key}}}}}"


def test_every_chart_image_is_built_by_some_profile() -> None:
    defaults = merged_values({})
    gpu_templates = _release(_with_profile("gpu"))["setValueTemplates"]
    for path in _image_paths(defaults):
        assert f"{path}.repository" in gpu_templates, f"{path} is never built by skaffold"
        # Without skaffold the chart names the same images the artifacts build.
        node: Any = defaults
        for key in path.split("."):
            node = node[key]
        image = gpu_templates[f"{path}.repository"].removeprefix("{{.IMAGE_REPO_")
        assert _sanitized(node["repository"]) == image.removesuffix("}}")


def _skaffold_values(config: Config) -> dict[str, Any]:
    """What skaffold passes to helm, with its templates filled the way a build would."""
    values: dict[str, Any] = {}
    fills = {"REPO": "localhost:5000/{}", "TAG": "dev", "DIGEST": "sha256:" + "c" * 64}

    def fill(match: re.Match[str]) -> str:
        return fills[match.group(1)].format(match.group(2).replace("_", "-"))

    release = _release(config)
    for key, template in {**release["setValueTemplates"], **release["setValues"]}.items():
        if isinstance(template, str):
            template = re.sub(r"\{\{\.IMAGE_(REPO|TAG|DIGEST)_(\w+)\}\}", fill, template)
        node = values
        *parents, last = key.split(".")
        for parent in parents:
            node = node.setdefault(parent, {})
        node[last] = template
    return values


@pytest.mark.parametrize(("profile", "gpu"), [("cpu-only", False), ("gpu", True)])
def test_skaffold_deploys_the_images_it_built(profile: str, gpu: bool) -> None:
    rendering = render(_skaffold_values(_with_profile(profile)))
    digest = "sha256:" + "c" * 64
    (router,) = pod_spec(rendering.named("Deployment", "chorus-router"))["containers"]
    assert router["image"] == f"localhost:5000/chorus-router:dev@{digest}"
    providers = {p["metadata"]["name"]: p["spec"] for p in rendering.of_kind("TTSProvider")}
    assert providers["kokoro"]["image"] == f"localhost:5000/chorus-kokoro:dev@{digest}"
    assert ("kokoro-gpu" in providers) is gpu
    assert not rendering.of_kind("Ingress")  # port-forwarded on a laptop cluster


def test_port_forward_reaches_the_router_service() -> None:
    (forward,) = SKAFFOLD["portForward"]
    assert _release(SKAFFOLD)["name"] == RELEASE  # the Service name follows the release name
    rendering = render(_skaffold_values(SKAFFOLD))
    service = rendering.named("Service", forward["resourceName"])
    assert forward["port"] in {p["port"] for p in service["spec"]["ports"]}
    assert forward["namespace"] == _release(SKAFFOLD)["namespace"]
