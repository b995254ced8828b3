"""A real Prometheus server for tests, scraping local processes with Chorus's rules loaded:
Prometheus's image on the host network where a Docker engine answers, else Debian's
`prometheus` (installed by `make test`) on a free port."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from support.docker_engine import docker_answers
from support.processes import free_port, wait_until

_IMAGE = "prom/prometheus:v2.53.0"


@dataclass
class PrometheusServer:
    url: str

    def alerts(self) -> list[dict[str, Any]]:
        body = httpx.get(f"{self.url}/api/v1/alerts", timeout=5).json()
        alerts: list[dict[str, Any]] = body["data"]["alerts"]
        return alerts

    def alert_state(self, name: str, **labels: str) -> str | None:
        """'pending', 'firing', or None when the alert is not active."""
        for alert in self.alerts():
            if alert["labels"]["alertname"] == name and labels.items() <= alert["labels"].items():
                state: str = alert["state"]
                return state
        return None


@contextlib.contextmanager
def prometheus_server(
    workdir: Path, targets: dict[str, list[str]], rule_files: list[Path]
) -> Iterator[PrometheusServer]:
    """Prometheus scraping `targets` (job -> host:port list) every second, evaluating
    `rule_files` every second, for as long as the block runs."""
    port = free_port()
    for rules in rule_files:
        shutil.copy(rules, workdir / rules.name)
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [rules.name for rules in rule_files],
        "scrape_configs": [
            {"job_name": job, "static_configs": [{"targets": hosts}]}
            for job, hosts in targets.items()
        ],
    }
    (workdir / "prometheus.yml").write_text(yaml.safe_dump(config))
    args = [
        "--storage.tsdb.path=data",
        f"--web.listen-address=127.0.0.1:{port}",
        "--config.file=prometheus.yml",
    ]
    runner = _container if docker_answers() else _process
    with runner(workdir, args):
        server = PrometheusServer(f"http://127.0.0.1:{port}")
        if not wait_until(lambda: _ready(server.url), timeout_s=30, interval_s=0.2):
            pytest.fail(f"prometheus did not get ready:\n{_log(workdir)}")
        yield server


@contextlib.contextmanager
def _process(workdir: Path, args: list[str]) -> Iterator[None]:
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.fail("no Docker engine and no prometheus: run `make test` (it installs one)")
    with (workdir / "prometheus.log").open("ab") as log:
        proc = subprocess.Popen([binary, *args], cwd=workdir, stdout=log, stderr=log)
        try:
            yield
        finally:
            proc.terminate()
            proc.wait(timeout=15)


@contextlib.contextmanager
def _container(workdir: Path, args: list[str]) -> Iterator[None]:
    from testcontainers.core.container import DockerContainer

    # The host network, so that it reaches the test's processes on 127.0.0.1.
    container = (
        DockerContainer(_IMAGE)
        .with_kwargs(network_mode="host", working_dir="/work")
        .with_volume_mapping(str(workdir), "/work", "rw")
        .with_command(" ".join(args))
    )
    with container:
        yield


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/-/ready", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _log(workdir: Path) -> str:
    log = workdir / "prometheus.log"
    return log.read_text(errors="replace")[-3000:] if log.exists() else "(in a container)"
