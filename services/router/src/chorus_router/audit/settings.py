"""The `audit` block of the router's settings (YAML `audit:`, env CHORUS_ROUTER_AUDIT__*)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class AuditSettings(BaseModel):
    """How long audit events are kept, and how often old ones are swept."""

    model_config = ConfigDict(extra="forbid")

    # Events older than this are deleted by the sweeper; a year covers most compliance asks.
    retention_days: float = Field(default=365.0, gt=0, le=3650)
    sweep_interval_s: float = Field(default=3600.0, gt=0, le=86_400)
