"""Every Dockerfile passes hadolint with nothing tolerated: any finding at style level or above
fails. A rule may only be waived inline (`# hadolint ignore=...`) next to a comment saying why."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from images.dockerfiles import Service, gpu_services, services

FAILURE_THRESHOLD = "style"
HADOLINT = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")


@pytest.mark.parametrize("service", services() + gpu_services(), ids=lambda s: s.package)
def test_hadolint_finds_nothing(service: Service, tmp_path: Path) -> None:
    dockerfile = service.dockerfile
    config = tmp_path / "hadolint.yaml"
    config.write_text("{}\n")  # no local or user config can relax the rules
    result = subprocess.run(
        [
            HADOLINT,
            "--config",
            str(config),
            "--no-color",
            "--format",
            "json",
            "--failure-threshold",
            FAILURE_THRESHOLD,
            str(dockerfile),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    findings = json.loads(result.stdout or "[]")
    assert result.returncode == 0, (
        "\n".join(
            f"{f['file']}:{f['line']} {f['code']} ({f['level']}): {f['message']}" for f in findings
        )
        or result.stderr
    )


def test_every_waiver_says_why() -> None:
    for service in services():
        lines = service.dockerfile.read_text().splitlines()
        for index, line in enumerate(lines):
            if "hadolint ignore=" in line:
                reason = lines[index - 1]
                where = f"{service.dockerfile}:{index + 1} waives a rule without a reason above it"
                assert reason.startswith("#"), where
                assert "hadolint" not in reason, where
