"""Every provider service starts through one generic entry point: its package declares the
command `chorus-<name>` as `chorus_provider.serve:main` and its engine as `<name>` in the
`chorus.providers` entry points; the engine names its settings."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from chorus_provider.serve import ENTRY_POINT_GROUP, installed_engine
from images.dockerfiles import REPO, Service, gpu_services, services

PROVIDERS = [s for s in services() + gpu_services() if s.directory.parent.name == "providers"]
INSTALLED = [s for s in services() if s in PROVIDERS]  # the CPU ones, in this environment
BIN = Path(sys.executable).parent


def _name(service: Service) -> str:
    return service.package.removeprefix("chorus-")


@pytest.mark.parametrize("service", PROVIDERS, ids=lambda s: s.package)
def test_package_declares_its_command_and_its_engine(service: Service) -> None:
    assert service.scripts == {service.package: "chorus_provider.serve:main"}
    project = tomllib.loads((service.directory / "pyproject.toml").read_text())["project"]
    (engine,) = project["entry-points"][ENTRY_POINT_GROUP].items()
    module, _, cls = engine[1].partition(":")
    assert engine[0] == _name(service)
    source = service.directory / "src" / (module.replace(".", "/") + ".py")
    assert f"\nclass {cls}(" in source.read_text(), f"{engine[1]} is not defined"
    assert not list((service.directory / "src").glob("*/__main__.py")), "one entry point only"


@pytest.mark.parametrize("service", INSTALLED, ids=lambda s: s.package)
def test_the_engine_reads_the_providers_own_settings(service: Service) -> None:
    settings = installed_engine(_name(service)).settings_class
    assert settings.model_config["env_prefix"] == service.env_prefix
    assert settings().name == _name(service)


@pytest.mark.parametrize("service", INSTALLED, ids=lambda s: s.package)
def test_the_command_serves_its_own_provider(service: Service) -> None:
    result = subprocess.run(
        [BIN / service.package, "--help"], capture_output=True, text=True, timeout=60, check=True
    )
    assert f"Chorus {_name(service)} provider" in result.stdout


def test_an_unknown_provider_is_refused_naming_the_installed_ones() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "chorus_provider", "nosuch"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=REPO,
    )
    assert result.returncode != 0
    assert "'nosuch'" in result.stderr
    assert "piper" in result.stderr
