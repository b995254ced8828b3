"""Security settings: nested under `security` in the router's YAML, or as environment
variables such as CHORUS_ROUTER_SECURITY__MODE and CHORUS_ROUTER_SECURITY__JWT__AUDIENCE.

Secrets (the HS256 secret, a Redis URL with a password) come from the environment or from
files, such as a mounted Kubernetes Secret; they are never read from the YAML in the image.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator


class AuthMode(StrEnum):
    NONE = "none"  # one local user with every scope: local runs and tests
    API_KEY = "api_key"  # keys created with chorus-router-keys, stored hashed
    JWT = "jwt"  # tokens from the operator's identity provider


class JwtSettings(BaseModel):
    """How tokens are verified: who issues them, for whom, and with which key."""

    model_config = ConfigDict(extra="forbid")

    algorithm: Literal["HS256", "RS256"] = "RS256"
    issuer: str | None = None
    audience: str | None = None
    # HS256: the shared secret, inline (from the environment) or in a file.
    secret: SecretStr | None = Field(default=None, min_length=32)
    secret_file: Path | None = None
    # RS256: the identity provider's public keys as a JWKS document, in a file or at a URL.
    jwks_file: Path | None = None
    jwks_url: str | None = Field(default=None, pattern=r"^https?://")
    jwks_cache_s: float = Field(default=300.0, gt=0, le=86_400)
    user_claim: str = Field(default="sub", min_length=1)
    # A space-separated string (OAuth 2 `scope`) or a list (`scp`, `roles`, ...).
    scopes_claim: str = Field(default="scope", min_length=1)
    leeway_s: float = Field(default=0.0, ge=0, le=300)

    def problems(self) -> list[str]:
        """What stops this configuration from verifying tokens (empty when it can)."""
        found = [
            f"jwt.{name} is required" for name in ("issuer", "audience") if not getattr(self, name)
        ]
        hs_sources = [s for s in (self.secret, self.secret_file) if s is not None]
        rs_sources = [s for s in (self.jwks_file, self.jwks_url) if s is not None]
        if self.algorithm == "HS256" and (len(hs_sources) != 1 or rs_sources):
            found.append("HS256 needs exactly one of jwt.secret, jwt.secret_file (and no JWKS)")
        if self.algorithm == "RS256" and (len(rs_sources) != 1 or hs_sources):
            found.append("RS256 needs exactly one of jwt.jwks_file, jwt.jwks_url (and no secret)")
        return found


class RateLimitSettings(BaseModel):
    """Per caller (API key or token subject) and per route class, in a sliding window."""

    model_config = ConfigDict(extra="forbid")

    # memory:// keeps counts in this process; redis:// or rediss:// shares them between
    # replicas (a URL with a password belongs in the environment or a Secret).
    storage_url: SecretStr = SecretStr("memory://")
    synthesis_per_minute: int = Field(default=60, ge=1)
    characters_per_minute: int = Field(default=100_000, ge=1)
    uploads_per_hour: int = Field(default=20, ge=1)

    @model_validator(mode="after")
    def _known_storage(self) -> RateLimitSettings:
        scheme = self.storage_url.get_secret_value().partition("://")[0]
        if scheme not in ("memory", "redis", "rediss"):
            raise ValueError("rate_limits.storage_url must be memory://, redis:// or rediss://")
        return self


class CorsSettings(BaseModel):
    """Which browser origins may call the API; none by default (no CORS headers at all)."""

    model_config = ConfigDict(extra="forbid")

    allow_origins: list[str] = Field(default_factory=list)
    allow_methods: list[str] = Field(default_factory=lambda: ["GET", "POST", "DELETE"])
    allow_headers: list[str] = Field(default_factory=lambda: ["Authorization", "Content-Type"])
    allow_credentials: bool = False
    max_age_s: int = Field(default=600, ge=0, le=86_400)


class SecuritySettings(BaseModel):
    """Authentication, rate limits and browser access of the router."""

    model_config = ConfigDict(extra="forbid")

    mode: AuthMode = AuthMode.NONE
    jwt: JwtSettings = Field(default_factory=JwtSettings)
    rate_limits: RateLimitSettings = Field(default_factory=RateLimitSettings)
    cors: CorsSettings = Field(default_factory=CorsSettings)

    @model_validator(mode="after")
    def _jwt_complete(self) -> SecuritySettings:
        if self.mode is AuthMode.JWT and (problems := self.jwt.problems()):
            raise ValueError("jwt mode: " + "; ".join(problems))
        return self
