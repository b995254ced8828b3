"""The `lexicons` block of the router's settings (YAML `lexicons:`, env
CHORUS_ROUTER_LEXICONS__*)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from chorus_contracts import MAX_LEXICONS_PER_REQUEST


class LexiconSettings(BaseModel):
    """Bounds on one lexicon, on what each user may keep, and on what one request applies."""

    model_config = ConfigDict(extra="forbid")

    max_entries_per_lexicon: int = Field(default=5_000, ge=1, le=100_000)
    # A PLS file, or a JSON body, as uploaded.
    max_upload_bytes: int = Field(default=1024 * 1024, ge=1024, le=64 * 1024 * 1024)
    max_lexicons_per_user: int = Field(default=50, ge=1, le=10_000)
    max_lexicons_per_request: int = Field(default=4, ge=1, le=MAX_LEXICONS_PER_REQUEST)
