"""The services of the workspace, their Dockerfiles read into stages, and what uv.lock installs."""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from dockerfile_parse import DockerfileParser

REPO = Path(__file__).resolve().parents[2]
# sha256 digests only: a tag alone can be moved, a digest cannot.
PINNED = re.compile(r"^[\w.\-/:]+:[\w.\-]+@sha256:[0-9a-f]{64}$")


# The providers' shared Dockerfiles, for providers without one of their own.
CPU_PROVIDERS_DOCKERFILE = REPO / "services" / "providers" / "Dockerfile.cpu"
GPU_PROVIDERS_DOCKERFILE = REPO / "services" / "providers" / "Dockerfile.gpu"


@dataclass(frozen=True)
class Service:
    """One deployable package with its image: the router, a provider, or the operator."""

    directory: Path
    package: str
    scripts: dict[str, str]
    image_config: dict[str, Any]
    shared_dockerfile: Path

    @property
    def image(self) -> str:
        """The image name skaffold and the chart use: the package name (chorus-<service>)."""
        return self.package

    @property
    def dockerfile(self) -> Path:
        """Its own Dockerfile, else the providers' shared one."""
        own = self.directory / "Dockerfile"
        return own if own.is_file() else self.shared_dockerfile

    @property
    def env_prefix(self) -> str:
        """The settings prefix, e.g. CHORUS_ROUTER_ for chorus-router."""
        return self.package.upper().replace("-", "_") + "_"

    @property
    def build_args(self) -> dict[str, str]:
        """What the shared Dockerfile is given for this provider (none for an own Dockerfile)."""
        if self.dockerfile != self.shared_dockerfile:
            return {}
        args = {"PROVIDER": self.directory.name, "ENV_PREFIX": self.env_prefix}
        if self.shared_dockerfile == CPU_PROVIDERS_DOCKERFILE:
            args["APT_PACKAGES"] = " ".join(self.image_config.get("apt-packages", []))
        return args

    def stages(self) -> list[Stage]:
        """Its Dockerfile's stages as this service's build sees them."""
        return stages(self.dockerfile, tuple(sorted(self.build_args.items())))

    def stage(self, name: str) -> Stage:
        (found,) = [s for s in self.stages() if s.name == name]
        return found


def _torch_packages() -> set[Path]:
    """The GPU providers (and libs/torch-engine): outside the uv workspace, own pins."""
    workspace = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["uv"]["workspace"]
    return {REPO / entry for entry in workspace.get("exclude", [])}


def services() -> list[Service]:
    """Every workspace folder that holds a service: the router, CPU providers, the operator."""
    folders = [REPO / "services" / "router", REPO / "operator"]
    folders += sorted(
        p
        for p in (REPO / "services" / "providers").iterdir()
        if p.is_dir() and p not in _torch_packages()
    )
    return _read_services(folders, CPU_PROVIDERS_DOCKERFILE)


def gpu_services() -> list[Service]:
    """The GPU providers: their images hold the CUDA build of torch and their requirements.lock."""
    torch = sorted(p for p in _torch_packages() if p.parent.name == "providers")
    return _read_services(torch, GPU_PROVIDERS_DOCKERFILE)


def _read_services(folders: list[Path], shared_dockerfile: Path) -> list[Service]:
    found = []
    for folder in folders:
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file():
            config = tomllib.loads(pyproject.read_text())
            project = config["project"]
            image = config.get("tool", {}).get("chorus", {}).get("image", {})
            scripts = project.get("scripts", {})
            found.append(Service(folder, project["name"], scripts, image, shared_dockerfile))
    return found


@dataclass(frozen=True)
class Stage:
    """One FROM ... section: its name, its (ARG-resolved) base and its instructions."""

    name: str
    base: str
    instructions: list[tuple[str, str]]

    def values(self, instruction: str) -> list[str]:
        return [value for name, value in self.instructions if name == instruction]

    def env(self) -> dict[str, str]:
        env: dict[str, str] = {}
        for value in self.values("ENV"):
            for word in shlex.split(value):
                key, _, text = word.partition("=")
                env[key] = text
        return env

    def run_text(self) -> str:
        return "\n".join(self.values("RUN"))

    def copied_from(self) -> set[str]:
        """Stages this one copies files out of (COPY --from=<stage>)."""
        found = set()
        for value in self.values("COPY"):
            match = re.search(r"--from=(\S+)", value)
            if match:
                found.add(match.group(1))
        return found


@cache
def stages(dockerfile: Path, build_args: tuple[tuple[str, str], ...] = ()) -> list[Stage]:
    """The stages, with `${NAME}` of each given build argument replaced as a build would."""
    args = dict(build_args)
    with dockerfile.open("rb") as text:  # a path is taken for a folder unless named Dockerfile
        parser = DockerfileParser(fileobj=text)
        bases = iter(parser.parent_images)
        structure = parser.structure
    result: list[Stage] = []
    for item in structure:
        instruction = item["instruction"]
        value = re.sub(r"\$\{(\w+)\}", lambda m: args.get(m[1], m[0]), item["value"])
        if instruction == "FROM":
            words = value.split()
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else str(len(result))
            result.append(Stage(name, next(bases), []))
        elif result and instruction != "COMMENT":
            result[-1].instructions.append((instruction, value))
    return result


def stage(dockerfile: Path, name: str) -> Stage:
    (found,) = [s for s in stages(dockerfile) if s.name == name]
    return found


def ancestry(built: list[Stage], target: Stage) -> list[Stage]:
    """`target` and every stage of `built` it is built FROM or COPYs from, transitively."""
    by_name = {s.name: s for s in built}
    seen: dict[str, Stage] = {}
    pending = [target]
    while pending:
        current = pending.pop()
        if current.name in seen:
            continue
        seen[current.name] = current
        for parent in {current.base, *current.copied_from()}:
            if parent in by_name:
                pending.append(by_name[parent])
    return list(seen.values())


def exec_form(value: str) -> list[str] | None:
    """An ENTRYPOINT/CMD as its JSON array, or None when it is written in shell form."""
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError:
        return None
    return parsed if isinstance(parsed, list) else None


@cache
def _lock() -> dict[str, dict[str, Any]]:
    packages = tomllib.loads((REPO / "uv.lock").read_text())["package"]
    return {p["name"]: p for p in packages}


def locked_closure(package: str) -> set[str]:
    """Every package uv.lock installs for `package` (all platforms, extras followed)."""
    lock = _lock()
    done: set[tuple[str, str | None]] = set()
    pending: list[tuple[str, tuple[str, ...]]] = [(package, ())]
    while pending:
        name, extras = pending.pop()
        parts = [part for part in [(name, None), *((name, e) for e in extras)] if part not in done]
        done.update(parts)
        entry = lock[name]
        deps: list[dict[str, Any]] = []
        for _, extra in parts:
            if extra is None:
                deps += entry.get("dependencies", [])
            else:
                deps += entry.get("optional-dependencies", {}).get(extra, [])
        pending += [(dep["name"], tuple(dep.get("extra", ()))) for dep in deps]
    return {name for name, _ in done}


def workspace_members(package: str) -> set[Path]:
    """The workspace folders (relative to the repository) that `package` needs installed."""
    lock = _lock()
    folders = set()
    for name in locked_closure(package):
        source = lock[name].get("source", {})
        if "editable" in source:
            folders.add(Path(source["editable"]))
    return folders
