from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from chorus_contracts import ServiceSettings


class RouterSettings(ServiceSettings):
    """The router's one settings object (env prefix CHORUS_ROUTER_, then the YAML file)."""

    model_config = SettingsConfigDict(env_prefix="CHORUS_ROUTER_", extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    # "file": providers.yaml (local runs); "kubernetes": TTSProvider resources (in a cluster).
    registry_source: Literal["file", "kubernetes"] = "file"
    registry_file: Path = Path("config/providers.yaml")
    kubernetes_namespace: str | None = Field(default=None, max_length=63)
    registry_reload_interval_s: float = Field(default=1.0, gt=0, le=60)
    provider_poll_interval_s: float = Field(default=2.0, gt=0, le=300)
    provider_connect_timeout_s: float = Field(default=2.0, gt=0, le=60)
    provider_check_timeout_s: float = Field(default=2.0, gt=0, le=60)
    # Bounds on one request's search for a provider (before the first audio byte).
    fallback_max_attempts: int = Field(default=4, ge=1, le=50)
    request_deadline_s: float = Field(default=30.0, gt=0, le=600)
    # After audio has started, a provider failure ends the stream; with this on, a short
    # spoken notice in the same voice ends it instead (requests may override it).
    stream_errors_as_audio: bool = False
    stream_error_text: str = Field(
        default="Sorry, the rest of this audio could not be produced.",
        min_length=1,
        max_length=500,
    )
    max_input_chars: int = Field(default=4096, ge=1, le=100_000)
    max_body_bytes: int = Field(default=1_048_576, ge=1024, le=64 * 1_048_576)
    log_level: str = Field(default="info", pattern=r"^(critical|error|warning|info|debug)$")
