"""The `artifacts` block of the router's settings (YAML `artifacts:`, env
CHORUS_ROUTER_ARTIFACTS__*): where stored audio lives, how long links last, the cache.

S3 credentials come by reference: environment variables (the chart fills them from a
Secret) or, when none are given, boto3's own chain (AWS_* variables, a web-identity token,
an instance role). They are SecretStr, so they never print.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

MIB = 1024 * 1024


class S3Settings(BaseModel):
    """An S3 bucket on AWS or any S3-compatible server (MinIO, Ceph, R2, ...)."""

    model_config = ConfigDict(extra="forbid")

    bucket: str | None = Field(default=None, min_length=3, max_length=63)
    # None: AWS's own endpoint for the region; otherwise e.g. http://minio:9000.
    endpoint_url: str | None = Field(default=None, pattern=r"^https?://")
    region: str | None = Field(default=None, min_length=1, max_length=40)
    prefix: str = Field(default="chorus/", max_length=200)
    access_key_id: SecretStr | None = None
    secret_access_key: SecretStr | None = None
    # Most S3-compatible servers want path-style addressing (http://host/bucket/key).
    addressing_style: Literal["path", "virtual", "auto"] = "path"

    def problems(self) -> list[str]:
        """What is missing for this store to work (empty when nothing is)."""
        found = []
        if self.bucket is None:
            found.append("artifacts.s3.bucket is required when artifacts.store is s3")
        if self.endpoint_url is None and self.region is None:
            found.append("artifacts.s3.region is required when no endpoint_url is given")
        keys = {"access_key_id": self.access_key_id, "secret_access_key": self.secret_access_key}
        missing = [name for name, value in keys.items() if value is None]
        if len(missing) == 1:
            found.append(f"artifacts.s3.{missing[0]} is required with the other S3 key")
        return found


class LinkSettings(BaseModel):
    """Download links (`return_download_link`): lifetime, signing, per-user storage."""

    model_config = ConfigDict(extra="forbid")

    default_ttl_s: int = Field(default=3600, ge=10, le=30 * 86_400)
    max_ttl_s: int = Field(default=86_400, ge=10, le=30 * 86_400)
    # Links carry an HMAC signature and expiry, so a browser can fetch one without a key.
    signed: bool = False
    signing_key: SecretStr | None = Field(default=None, min_length=32)
    max_bytes_per_user: int = Field(default=500 * MIB, ge=MIB, le=1024 * 1024 * MIB)


class CacheSettings(BaseModel):
    """The response cache: identical requests are served from a stored file."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    max_bytes: int = Field(default=1024 * MIB, ge=MIB, le=1024 * 1024 * MIB)


class ArtifactSettings(BaseModel):
    """Stored audio: download links and the response cache share one store."""

    model_config = ConfigDict(extra="forbid")

    store: Literal["filesystem", "s3"] = "filesystem"
    # Filesystem store: this directory, or `artifacts` under the router's data_dir.
    directory: Path | None = None
    s3: S3Settings = Field(default_factory=S3Settings)
    links: LinkSettings = Field(default_factory=LinkSettings)
    cache: CacheSettings = Field(default_factory=CacheSettings)
    # One file's bound: past it the response still goes out, but nothing is stored.
    max_file_bytes: int = Field(default=64 * MIB, ge=MIB, le=1024 * MIB)
    sweep_interval_s: float = Field(default=60.0, gt=0, le=86_400)

    @model_validator(mode="after")
    def _complete(self) -> ArtifactSettings:
        problems = self.s3.problems() if self.store == "s3" else []
        if self.links.signed and self.links.signing_key is None:
            problems.append("artifacts.links.signing_key is required when links.signed is on")
        if self.links.default_ttl_s > self.links.max_ttl_s:
            problems.append("artifacts.links.default_ttl_s must not exceed links.max_ttl_s")
        if problems:
            raise ValueError("; ".join(problems))
        return self
