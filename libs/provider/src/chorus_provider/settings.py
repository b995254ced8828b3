"""Settings every provider service shares; each provider subclasses with its own prefix."""

from __future__ import annotations

from pydantic import AliasChoices, Field
from pydantic_settings import SettingsConfigDict

from chorus_contracts import ServiceSettings, TextChunking


class ProviderSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CHORUS_PROVIDER_", extra="forbid")

    name: str = Field(default="provider", pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    host: str = "127.0.0.1"
    port: int = Field(default=8100, ge=1, le=65535)
    max_concurrency: int = Field(default=2, ge=1, le=256)
    max_queue: int = Field(default=16, ge=0, le=10_000)
    queue_timeout_s: float = Field(default=10.0, gt=0, le=600)
    max_text_length: int = Field(default=4096, ge=1, le=1_000_000)
    max_sentence_chars: int = Field(default=300, ge=20, le=5000)
    # The first piece of a text ends at a clause or phrase boundary within this many words
    # (0: the whole first sentence), so first audio comes sooner.
    first_piece_max_words: int = Field(default=10, ge=0, le=100)
    log_level: str = Field(default="info", pattern=r"^(critical|error|warning|info|debug)$")
    # On SIGTERM, streams in flight get this long to finish (new work gets 503). One name for
    # every provider, CHORUS_DRAIN_TIMEOUT_S, so that the operator can set it from the
    # TTSProvider's routing.requestTimeoutS (the longest stream the router waits for).
    drain_timeout_s: float = Field(
        default=120.0,
        gt=0,
        le=3600,
        validation_alias=AliasChoices("drain_timeout_s", "CHORUS_DRAIN_TIMEOUT_S"),
    )

    def text_chunking(self) -> TextChunking:
        """How a sentence-by-sentence engine of this service splits text."""
        return TextChunking(
            max_chars=self.max_sentence_chars, first_piece_max_words=self.first_piece_max_words
        )
