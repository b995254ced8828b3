"""Objects in an S3 bucket, through boto3, the AWS SDK for Python.

Why boto3: it is AWS's own, released in step with the service, speaks to any
S3-compatible server by endpoint URL, and resolves credentials by its standard chain
(variables, web identity, instance roles). Its clients are thread-safe, so the router
calls it from worker threads; aioboto3 would add a second maintainer's wrapper pinned to
particular botocore versions for no gain at the request rates a TTS router sees.
"""

from __future__ import annotations

import logging
from collections.abc import Generator
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.response import StreamingBody

from chorus_router.artifacts.settings import S3Settings
from chorus_router.artifacts.storage import READ_BLOCK, ObjectMissing, check_key

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

_MISSING = {"NoSuchKey", "404", "NotFound"}
# At debug level these would log signed request headers, which name the access key.
_QUIET = ("boto3", "botocore", "s3transfer", "urllib3")


class S3Storage:
    """One bucket (and key prefix) of an S3-compatible store."""

    def __init__(self, settings: S3Settings) -> None:
        if settings.bucket is None:
            raise ValueError("artifacts.s3.bucket is required")
        self._bucket = settings.bucket
        self._prefix = settings.prefix
        for name in _QUIET:
            logging.getLogger(name).setLevel(logging.WARNING)
        key_id, secret = settings.access_key_id, settings.secret_access_key
        self._client: S3Client = boto3.client(
            "s3",
            endpoint_url=settings.endpoint_url,
            region_name=settings.region,
            aws_access_key_id=key_id.get_secret_value() if key_id else None,
            aws_secret_access_key=secret.get_secret_value() if secret else None,
            config=Config(
                s3={"addressing_style": settings.addressing_style},
                retries={"mode": "standard", "max_attempts": 3},
                connect_timeout=5,
                read_timeout=30,
                max_pool_connections=32,
            ),
        )

    def spool_directory(self) -> Path | None:
        return None

    def check(self) -> None:
        """Fail start-up early when the bucket cannot be reached with these credentials."""
        self._client.head_bucket(Bucket=self._bucket)

    def publish(self, key: str, spool: BinaryIO, content_type: str) -> None:
        # One PutObject: atomic (readers see the whole object or none), and unlike
        # upload_fileobj it leaves the spool open for the next key. Files are bounded by
        # artifacts.max_file_bytes, far below a single PUT's 5 GB.
        spool.seek(0)
        self._client.put_object(
            Bucket=self._bucket, Key=self._key(key), Body=spool, ContentType=content_type
        )

    def read(self, key: str, start: int, length: int) -> Generator[bytes, None, None]:
        if length <= 0:
            return _nothing()
        try:
            reply = self._client.get_object(
                Bucket=self._bucket,
                Key=self._key(key),
                Range=f"bytes={start}-{start + length - 1}",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _MISSING:
                raise ObjectMissing(key) from None
            raise
        return _body_blocks(reply["Body"])

    def delete(self, key: str) -> None:
        self._client.delete_object(Bucket=self._bucket, Key=self._key(key))

    def _key(self, key: str) -> str:
        return f"{self._prefix}{check_key(key)}"


def _body_blocks(body: StreamingBody) -> Generator[bytes, None, None]:
    try:
        yield from body.iter_chunks(READ_BLOCK)
    finally:
        body.close()


def _nothing() -> Generator[bytes, None, None]:
    yield from ()
