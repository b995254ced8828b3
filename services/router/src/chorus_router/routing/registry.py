"""Which providers exist: one interface, fed by `providers.yaml` here, TTSProviders in a cluster.

Updates replace the list of entries as a whole; whoever consumes them keeps per-provider
state (breakers, capabilities) by name so that nothing in flight is dropped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Protocol

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from chorus_contracts import ProviderKind, RoutingPolicy

log = logging.getLogger("chorus.router.registry")

NAME_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
URL_PATTERN = r"^https?://"
# A provider's replicas the router balances over; more belong behind a Service.
MAX_REPLICAS = 64


class ProviderEntry(BaseModel):
    """One provider as the router routes to it: where it is and which requests it takes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=NAME_PATTERN, max_length=63)
    # The provider's address (its Service in a cluster); `urls`, when given, are its
    # replicas, and each stream goes to one of them (least request). `url` defaults to
    # the first of them.
    url: str = Field(pattern=URL_PATTERN)
    urls: list[Annotated[str, Field(pattern=URL_PATTERN)]] = Field(
        default_factory=list, max_length=MAX_REPLICAS
    )
    enabled: bool = True
    models: list[str] = Field(min_length=1)
    # OpenAI voice names (alloy, nova, ...) -> this provider's voice ids.
    voices: dict[str, str] = Field(default_factory=dict)
    routing: RoutingPolicy = Field(default_factory=RoutingPolicy)
    # The provider's class, for SLOs: metrics say which objective a provider is held to.
    kind: ProviderKind = "local"
    # It may have no replica while idle (an autoscaler took it to zero): a request for it
    # is held while it wakes, up to the router's cold-start bounds, instead of passed over.
    scale_to_zero: bool = False

    @model_validator(mode="before")
    @classmethod
    def _url_from_replicas(cls, data: Any) -> Any:
        if isinstance(data, dict) and "url" not in data and data.get("urls"):
            return {**data, "url": data["urls"][0]}
        return data

    @field_validator("url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("urls")
    @classmethod
    def _distinct_replicas(cls, values: list[str]) -> list[str]:
        return list(dict.fromkeys(v.rstrip("/") for v in values))

    @property
    def endpoints(self) -> list[str]:
        """Where its streams go: each replica, or the one address."""
        return self.urls or [self.url]


class RegistryDocument(BaseModel):
    model_config = ConfigDict(extra="forbid")

    providers: list[ProviderEntry] = Field(default_factory=list)

    @field_validator("providers")
    @classmethod
    def _unique_names(cls, providers: list[ProviderEntry]) -> list[ProviderEntry]:
        names = [p.name for p in providers]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"provider names must be unique; repeated: {', '.join(duplicates)}")
        return providers


class RegistryError(ValueError):
    """The registry file cannot be read or does not hold a valid document."""


def read_registry_file(path: Path) -> list[ProviderEntry]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return RegistryDocument.model_validate(raw).providers
    except OSError as exc:
        raise RegistryError(f"cannot read registry file {path}: {exc}") from None
    except yaml.YAMLError as exc:
        raise RegistryError(f"registry file {path} is not valid YAML: {exc}") from None
    except ValidationError as exc:
        raise RegistryError(f"registry file {path} is invalid: {exc}") from None


Publish = Callable[[list[ProviderEntry]], None]


@dataclass(frozen=True)
class SourceStatus:
    """Whether the source has delivered its list yet (readiness says so while it has not)."""

    source: Literal["file", "kubernetes"]
    synced: bool
    error: str | None = None


class RegistrySource(Protocol):
    """Where the providers come from: the file here, TTSProvider resources in a cluster."""

    def initial(self) -> list[ProviderEntry]: ...

    async def watch(self, publish: Publish) -> None: ...

    def status(self) -> SourceStatus: ...


class FileRegistrySource:
    """Reads `providers.yaml` at start and again whenever it changes.

    A broken edit is logged and ignored: the last good list stays in force.
    """

    def __init__(self, path: Path, interval_s: float) -> None:
        self._path = path
        self._interval_s = interval_s
        self._seen: tuple[int, int] | None = None

    def initial(self) -> list[ProviderEntry]:
        entries = read_registry_file(self._path)
        self._seen = self._stamp()
        return entries

    def status(self) -> SourceStatus:
        # A file that cannot be read stops start-up, so a running router has read it.
        return SourceStatus("file", synced=True)

    async def watch(self, publish: Publish) -> None:
        while True:
            await asyncio.sleep(self._interval_s)
            stamp = self._stamp()
            if stamp == self._seen:
                continue
            self._seen = stamp
            try:
                entries = read_registry_file(self._path)
            except RegistryError as exc:
                log.error("keeping the previous providers: %s", exc)
                continue
            log.info("registry reloaded: %s", ", ".join(e.name for e in entries) or "(none)")
            publish(entries)

    def _stamp(self) -> tuple[int, int] | None:
        try:
            stat = self._path.stat()
        except OSError:
            return None
        return stat.st_mtime_ns, stat.st_size
