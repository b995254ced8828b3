"""One S3-compatible server for the tests that need a shared object store: testcontainers'
MinIO when a Docker engine answers, else moto's server mode (from PyPI) as a local process
on a free port. Each test makes a bucket of its own in it."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

from support.docker_engine import docker_answers
from support.processes import ServiceProcess, free_port

REGION = "us-east-1"


@dataclass(frozen=True)
class S3Server:
    endpoint_url: str
    access_key: str
    secret_key: str

    def create_bucket(self) -> str:
        name = f"chorus-{secrets.token_hex(6)}"
        self.client().create_bucket(Bucket=name)
        return name

    def client(self):  # type: ignore[no-untyped-def]  # boto3's client type is generated
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name=REGION,
        )

    def router_env(self, bucket: str) -> dict[str, str]:
        """The router's settings for this bucket, credentials passed as the chart passes them."""
        prefix = "CHORUS_ROUTER_ARTIFACTS__"
        return {
            f"{prefix}STORE": "s3",
            f"{prefix}S3__BUCKET": bucket,
            f"{prefix}S3__ENDPOINT_URL": self.endpoint_url,
            f"{prefix}S3__REGION": REGION,
            f"{prefix}S3__ACCESS_KEY_ID": self.access_key,
            f"{prefix}S3__SECRET_ACCESS_KEY": self.secret_key,
        }


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    if docker_answers():
        from testcontainers.community.minio import MinioContainer

        with MinioContainer() as box:
            config = box.get_config()
            yield S3Server(
                f"http://{config['endpoint']}", config["access_key"], config["secret_key"]
            )
        return
    with _moto_server(tmp_path_factory.mktemp("s3")) as server:
        yield server


@pytest.fixture
def s3_bucket(s3_server: S3Server) -> str:
    return s3_server.create_bucket()


@contextmanager
def _moto_server(logs: Path) -> Iterator[S3Server]:
    port = free_port()
    proc = ServiceProcess(
        "moto-s3", "moto.server", port, {}, logs, args=("-H", "127.0.0.1", "-p", str(port))
    ).start()
    try:
        proc.wait_ready("/moto-api/", timeout_s=60)
        # moto accepts any credentials; fixed ones keep the two paths alike.
        yield S3Server(proc.url, "AKIACHORUSTESTKEY01", "chorus-test-secret-access-key")
    finally:
        proc.stop()
