"""Per-provider routing policy: one model read from `providers.yaml` and from a
TTSProvider's `spec.routing`, so the file and the cluster say the same things."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

# What runs a provider: a cloud API, a CPU engine, or a GPU model. Operators schedule by it;
# the router labels SLO metrics with it (objectives differ per class).
ProviderKind = Literal["cloud", "local", "gpu"]


class _Policy(BaseModel):
    # camelCase in Kubernetes resources, snake_case in Python and YAML files: both accepted.
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class RetryPolicy(_Policy):
    """Attempts on the same provider for retryable failures, with exponential backoff + jitter."""

    attempts: int = Field(default=2, ge=1, le=10)
    backoff_initial_s: float = Field(default=0.1, ge=0, le=30)
    backoff_max_s: float = Field(default=2.0, ge=0, le=60)
    jitter_s: float = Field(default=0.1, ge=0, le=10)


class BreakerPolicy(_Policy):
    """Circuit breaker: open after `fail_max` consecutive failures, probe after the reset."""

    fail_max: int = Field(default=5, ge=1, le=1000)
    reset_timeout_s: float = Field(default=30.0, gt=0, le=3600)


class RoutingPolicy(_Policy):
    priority: int = Field(default=0, ge=-1000, le=1000)
    fallback: list[str] = Field(default_factory=list, max_length=32)
    request_timeout_s: float = Field(default=120.0, gt=0, le=3600)
    first_byte_timeout_s: float = Field(default=15.0, gt=0, le=600)
    retry: RetryPolicy = Field(default_factory=RetryPolicy)
    breaker: BreakerPolicy = Field(default_factory=BreakerPolicy)
