"""What the store takes in and gives back: plain values, never database rows."""

from __future__ import annotations

from dataclasses import dataclass

from chorus_router.voices.processing import ProcessedSample


@dataclass(frozen=True)
class Quotas:
    max_voices: int
    max_bytes: int


@dataclass(frozen=True)
class ConsentRecord:
    id: str
    name: str
    language: str
    created_us: int  # microseconds: orders records made in the same second

    @property
    def created_at(self) -> int:
        return self.created_us // 1_000_000


@dataclass(frozen=True)
class NewVoice:
    """A validated upload, ready to store."""

    name: str
    description: str | None
    provider_hint: str | None
    consent_id: str
    container: str
    codec: str
    channels: int
    original: bytes
    sample: ProcessedSample


@dataclass(frozen=True)
class VoiceRecord:
    id: str
    name: str
    description: str | None
    provider_hint: str | None
    consent_id: str
    created_us: int
    container: str
    codec: str
    channels: int
    duration_s: float
    original_bytes: int
    sample_rate: int
    sample_bytes: int
    sample_sha256: str

    @property
    def created_at(self) -> int:
        return self.created_us // 1_000_000
