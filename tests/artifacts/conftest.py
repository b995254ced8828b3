from collections.abc import Iterator

import httpx
import pytest
from openai import OpenAI

from support.artifact_stack import start_artifact_stack
from support.s3_server import s3_bucket as s3_bucket
from support.s3_server import s3_server as s3_server
from support.stack import Stack


@pytest.fixture(scope="session")
def artifact_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Piper and a tone provider behind one router storing audio on the filesystem."""
    stack = start_artifact_stack(tmp_path_factory.mktemp("artifacts"))
    yield stack
    stack.stop()


@pytest.fixture
def client(artifact_stack: Stack) -> OpenAI:
    return OpenAI(base_url=artifact_stack.base_url, api_key="local", max_retries=0, timeout=60)


@pytest.fixture
def http(artifact_stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=artifact_stack.router.url, timeout=30) as client:
        yield client
