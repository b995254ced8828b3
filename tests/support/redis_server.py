"""One Redis for the tests that need a shared store: testcontainers' Redis when a Docker
engine answers, else Debian's redis-server (installed by `make test`) on a free port."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis
from testcontainers.community.redis import RedisContainer

from support.docker_engine import docker_answers
from support.processes import free_port, wait_until


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`redis://host:port` of a Redis that lives as long as the test session."""
    if docker_answers():
        with RedisContainer("redis:7-alpine") as container:
            host = container.get_container_host_ip()
            yield f"redis://{host}:{container.get_exposed_port(6379)}"
        return
    with local_redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


@contextmanager
def local_redis_server(workdir: Path, port: int | None = None) -> Iterator[str]:
    """Debian's redis-server on a loopback port (`port`, else a free one), without
    persistence; its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("no redis-server: run `make test` (it installs one)")
    port = port or free_port()
    log = (workdir / "redis.log").open("ab")
    # No persistence, loopback only: a throwaway server for this session.
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=workdir,
        stdout=log,
        stderr=log,
    )
    client = redis.Redis(port=port, socket_connect_timeout=0.5)
    try:
        if not wait_until(lambda: _pings(client), timeout_s=15, interval_s=0.05):
            raise RuntimeError(f"redis-server did not answer on port {port}")
        yield f"redis://127.0.0.1:{port}"
    finally:
        client.close()
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
