from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict
from sqlalchemy import Engine

from chorus_contracts import ServiceSettings
from chorus_router.artifacts.settings import ArtifactSettings
from chorus_router.audit.settings import AuditSettings
from chorus_router.jobs.settings import JobSettings
from chorus_router.lexicons.settings import LexiconSettings
from chorus_router.security.settings import SecuritySettings
from chorus_router.speech.live.config import LiveSettings
from chorus_router.storage.database import DatabaseUrl, database_url, open_engine
from chorus_router.voices.settings import VoiceSettings


class RouterSettings(ServiceSettings):
    """The router's one settings object (env prefix CHORUS_ROUTER_, then the YAML file)."""

    model_config = SettingsConfigDict(
        env_prefix="CHORUS_ROUTER_", env_nested_delimiter="__", extra="forbid"
    )

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    # "file": providers.yaml (local runs); "kubernetes": TTSProvider resources (in a cluster).
    registry_source: Literal["file", "kubernetes"] = "file"
    registry_file: Path = Path("config/providers.yaml")
    # With "kubernetes": the pod's namespace, in-cluster API and service-account token unless
    # these say otherwise.
    kubernetes_namespace: str | None = Field(default=None, max_length=63)
    kubernetes_api_url: str = Field(default="https://kubernetes.default.svc", pattern=r"^https?://")
    kubernetes_token: SecretStr | None = None
    registry_reload_interval_s: float = Field(default=1.0, gt=0, le=60)
    provider_poll_interval_s: float = Field(default=2.0, gt=0, le=300)
    provider_connect_timeout_s: float = Field(default=2.0, gt=0, le=60)
    provider_check_timeout_s: float = Field(default=2.0, gt=0, le=60)
    # How streams spread over a provider's replicas: the least loaded one (fewest in flight
    # per slot, with the queue each reports), or in turn (to compare against).
    replica_balancing: Literal["least-request", "round-robin"] = "least-request"
    # Bounds on one request's search for a provider (before the first audio byte).
    fallback_max_attempts: int = Field(default=4, ge=1, le=50)
    request_deadline_s: float = Field(default=30.0, gt=0, le=600)
    # A provider that scales to zero: how long a request waits for it to wake (not counted
    # against the deadline above, which starts again once it is ready), and how many
    # requests per provider may wait at once; past either it falls back, or gets 503.
    cold_start_wait_s: float = Field(default=120.0, gt=0, le=900)
    cold_start_max_waiting: int = Field(default=64, ge=1, le=10_000)
    # On SIGTERM, new requests get 503 and those in flight (streams, files, downloads) get
    # this long to finish (the chart's terminationGracePeriodSeconds is the preStop sleep,
    # this, and 5 s to exit, as the operator sizes a provider's).
    shutdown_timeout_s: float = Field(default=120.0, gt=0, le=3600)
    # With a Redis for rate limits, how often open breakers and cool-downs are exchanged
    # with the other replicas through it (a change shows everywhere within two intervals).
    health_sync_interval_s: float = Field(default=0.25, gt=0, le=10)
    # After audio has started, a provider failure ends the stream; with this on, a short
    # spoken notice in the same voice ends it instead (requests may override it).
    stream_errors_as_audio: bool = False
    stream_error_text: str = Field(
        default="Sorry, the rest of this audio could not be produced.",
        min_length=1,
        max_length=500,
    )
    # Threads that encode and resample (mp3/opus/aac/flac, and any rate change) off the
    # event loop; 0 encodes on the loop itself, which only a benchmark should want.
    encode_workers: int = Field(default=2, ge=0, le=64)
    max_input_chars: int = Field(default=4096, ge=1, le=100_000)
    max_body_bytes: int = Field(default=1_048_576, ge=1024, le=64 * 1_048_576)
    log_level: str = Field(default="info", pattern=r"^(critical|error|warning|info|debug)$")
    # Authentication, rate limits, CORS (CHORUS_ROUTER_SECURITY__MODE=api_key, ...).
    security: SecuritySettings = Field(default_factory=SecuritySettings)
    # State shared by replicas (custom voices, consents, API keys): SQLite in data_dir by
    # default, PostgreSQL when database_url is set (CHORUS_ROUTER_DATABASE_URL).
    data_dir: Path = Path("data")
    database_url: DatabaseUrl | None = None
    voices: VoiceSettings = Field(default_factory=VoiceSettings)
    # Pronunciation lexicons: bounds per lexicon, per user and per request.
    lexicons: LexiconSettings = Field(default_factory=LexiconSettings)
    # Stored audio (download links, the response cache): files under data_dir/artifacts by
    # default, or an S3 bucket (CHORUS_ROUTER_ARTIFACTS__STORE=s3, __S3__BUCKET, ...).
    artifacts: ArtifactSettings = Field(default_factory=ArtifactSettings)
    # The audit log of voice, key and admin operations (CHORUS_ROUTER_AUDIT__RETENTION_DAYS).
    audit: AuditSettings = Field(default_factory=AuditSettings)

    # Long-form jobs (/api/v1/audio/jobs): CHORUS_ROUTER_JOBS__QUEUE_URL=redis://..., bounds.
    jobs: JobSettings = Field(default_factory=JobSettings)

    # Live speech sessions (/v1/audio/speech/live): CHORUS_ROUTER_LIVE__MAX_SESSIONS, ...
    live: LiveSettings = Field(default_factory=LiveSettings)

    def open_database(self) -> Engine:
        """An engine for the shared state (not yet connected: callers migrate it first)."""
        secret = self.database_url.get_secret_value() if self.database_url else None
        return open_engine(database_url(secret, self.data_dir))
