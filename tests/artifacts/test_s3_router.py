"""A router whose stored audio lives in an S3 bucket (MinIO or moto's server, one fixture)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from openai import OpenAI

from support.artifact_stack import start_artifact_stack
from support.s3_server import S3Server
from support.stack import Stack

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def s3_stack(
    tmp_path_factory: pytest.TempPathFactory, s3_server: S3Server
) -> Iterator[tuple[Stack, str]]:
    bucket = s3_server.create_bucket()
    # At debug level, so that a logged credential would show.
    env = {**s3_server.router_env(bucket), "CHORUS_ROUTER_LOG_LEVEL": "debug"}
    stack = start_artifact_stack(tmp_path_factory.mktemp("s3-router"), env)
    yield stack, bucket
    stack.stop()


def _objects(server: S3Server, bucket: str) -> list[str]:
    listed = server.client().list_objects_v2(Bucket=bucket, Prefix="chorus/")
    return sorted(item["Key"] for item in listed.get("Contents", []))


def test_links_and_cache_hits_are_served_from_the_bucket(
    s3_stack: tuple[Stack, str], s3_server: S3Server
) -> None:
    stack, bucket = s3_stack
    client = OpenAI(base_url=stack.base_url, api_key="local", max_retries=0, timeout=60)
    request = {
        "model": "tone",
        "voice": "alloy",
        "input": "Stored in a bucket. Served from it.",
        "response_format": "mp3",
    }
    first = client.audio.speech.with_raw_response.create(
        **request, extra_body={"return_download_link": True, "stream": False}
    )
    second = client.audio.speech.with_raw_response.create(**request, extra_body={"stream": False})
    assert (first.headers["x-chorus-cache"], second.headers["x-chorus-cache"]) == ("miss", "hit")
    assert second.content == first.content
    path = first.headers["x-download-path"]
    name = path.rsplit("/", 1)[1]
    stored = _objects(s3_server, bucket)
    assert f"chorus/{name}" in stored
    assert len(stored) == 2  # the link's file and the cache entry
    with httpx.Client(base_url=stack.router.url, timeout=30) as http:
        assert http.get(path).content == first.content
        part = http.get(path, headers={"Range": "bytes=10-19"})
        assert (part.status_code, part.content) == (206, first.content[10:20])
        assert http.delete(path).status_code == 204
        assert http.get(path).status_code == 404
    assert f"chorus/{name}" not in _objects(s3_server, bucket)
    logs = stack.router.log_path.read_text()
    assert s3_server.secret_key not in logs
    assert s3_server.access_key not in logs


def test_an_abandoned_stream_puts_nothing_in_the_bucket(
    s3_stack: tuple[Stack, str], s3_server: S3Server
) -> None:
    stack, bucket = s3_stack
    before = _objects(s3_server, bucket)
    client = OpenAI(base_url=stack.base_url, api_key="local", max_retries=0, timeout=60)
    text = " ".join(f"Sentence {n} keeps this stream going." for n in range(60))
    with client.audio.speech.with_streaming_response.create(
        model="piper",
        voice="alloy",
        input=text,
        response_format="mp3",
        extra_body={"return_download_link": True},
    ) as response:
        path = response.headers["x-download-path"]
        next(response.iter_bytes())
    with httpx.Client(base_url=stack.router.url, timeout=30) as http:
        assert http.get(path).status_code == 404
    assert _objects(s3_server, bucket) == before
