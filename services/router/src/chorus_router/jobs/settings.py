"""The `jobs` block of the router's settings (YAML `jobs:`, env CHORUS_ROUTER_JOBS__*)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class JobSettings(BaseModel):
    """Long-form jobs: the queue they go through, and bounds on what one may ask."""

    model_config = ConfigDict(extra="forbid")

    # The saq queue (redis://...; `make run` starts a local Redis for it). None: the jobs
    # API answers 503 and no worker runs in this router.
    queue_url: SecretStr | None = None
    # Jobs this router works on at once (any replica takes queued jobs).
    workers: int = Field(default=2, ge=1, le=64)
    max_input_chars: int = Field(default=5_000_000, ge=100, le=50_000_000)
    # An uploaded file (EPUB, text); a request's body may be this and 1 MiB of fields.
    max_file_bytes: int = Field(default=50 * 1024 * 1024, ge=1024, le=1024 * 1024 * 1024)
    # What an EPUB's zip may unpack to (a zip bomb unpacks far beyond its file's size).
    max_unpacked_bytes: int = Field(default=200 * 1024 * 1024, ge=1024, le=4 * 1024**3)
    max_chapters: int = Field(default=500, ge=1, le=10_000)
    # Characters one user's jobs may speak in any 24 hours (a submission past it is a 429).
    max_chars_per_day: int = Field(default=20_000_000, ge=100, le=10**10)
    # Jobs one user may have queued or running at once.
    max_active_per_user: int = Field(default=4, ge=1, le=1000)
    # Pieces of one job synthesized at once (across its chapters and the providers' replicas).
    pieces_in_flight: int = Field(default=2, ge=1, le=64)
    # Characters in one synthesis call: whole sentences packed up to this. Each call costs
    # the provider more than its text (on two busy cores Piper spent about 75 ms of CPU per
    # audio second on 400-character pieces, 69 on 800), and a job needs no quick first
    # audio; a piece is also what a resumed job may make twice (docs/performance.md).
    piece_chars: int = Field(default=800, ge=40, le=4096)
    # How long a chapter's provider may keep failing (its pieces retried with backoff)
    # before the chapter is redone on the fallback provider, for jobs that fall back.
    provider_down_s: float = Field(default=60.0, ge=0, le=86_400)
    # A worker that stops touching its job this long is taken as dead; the job is resumed.
    heartbeat_s: int = Field(default=30, ge=2, le=3600)
    # How many times a job is resumed after its worker died or its router stopped.
    max_resumes: int = Field(default=20, ge=0, le=1000)
    # How long the outputs' download links last.
    output_ttl_s: int = Field(default=7 * 86_400, ge=60, le=30 * 86_400)
    # Audio seconds of silence between two chapters of the whole book.
    chapter_gap_s: float = Field(default=1.0, ge=0, le=10)
