"""The providers the router knows right now, with what each last said about itself."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field

import httpx
from pydantic import ValidationError

from chorus_contracts import Capabilities
from chorus_router.registry import ProviderEntry

log = logging.getLogger("chorus.router.pool")


@dataclass
class ProviderHandle:
    """A provider entry plus its live state; kept across registry updates by name."""

    entry: ProviderEntry
    capabilities: Capabilities | None = None
    ready: bool = False
    last_error: str | None = None
    checked_at: float | None = None
    voice_ids: frozenset[str] = field(default_factory=frozenset)

    @property
    def name(self) -> str:
        return self.entry.name

    def offers_voice(self, voice: str) -> bool:
        """Unknown until capabilities arrive; then the provider's own voice list decides."""
        return self.capabilities is None or voice in self.voice_ids

    def engine_voice(self, requested: str) -> str | None:
        """The provider's voice id for an OpenAI voice name or one of its own voice ids."""
        if requested in self.entry.voices:
            return self.entry.voices[requested]
        return requested if self.offers_voice(requested) else None


class ProviderPool:
    """Holds one handle per registered provider and polls each one's readiness."""

    def __init__(self, client: httpx.AsyncClient, poll_interval_s: float) -> None:
        self._client = client
        self._poll_interval_s = poll_interval_s
        self._handles: dict[str, ProviderHandle] = {}

    def update(self, entries: list[ProviderEntry]) -> None:
        """Swap in a new registry; a provider whose URL is unchanged keeps its state."""
        fresh: dict[str, ProviderHandle] = {}
        for entry in entries:
            old = self._handles.get(entry.name)
            if old is not None and old.entry.url == entry.url:
                old.entry = entry
                fresh[entry.name] = old
            else:
                fresh[entry.name] = ProviderHandle(entry)
        self._handles = fresh

    def all(self) -> list[ProviderHandle]:
        return list(self._handles.values())

    def get(self, name: str) -> ProviderHandle | None:
        return self._handles.get(name)

    def enabled(self) -> list[ProviderHandle]:
        return [h for h in self._handles.values() if h.entry.enabled]

    def models(self) -> list[str]:
        return sorted({m for h in self.enabled() for m in h.entry.models})

    def serving(self, model: str) -> list[ProviderHandle]:
        """Enabled providers that serve `model`, highest priority first."""
        matching = [h for h in self.enabled() if model in h.entry.models]
        return sorted(matching, key=lambda h: -h.entry.routing.priority)

    def any_ready(self) -> bool:
        return any(h.ready for h in self.enabled())

    async def poll_forever(self) -> None:
        while True:
            await self.refresh()
            await asyncio.sleep(self._poll_interval_s)

    async def refresh(self) -> None:
        handles = self.all()
        if handles:
            await asyncio.gather(*(self._check(h) for h in handles))

    async def _check(self, handle: ProviderHandle) -> None:
        url = handle.entry.url
        try:
            ready = await self._client.get(f"{url}/readyz")
            if ready.status_code != 200:
                reason = ready.json().get("reason", f"HTTP {ready.status_code}")
                self._mark(handle, ready=False, error=f"not ready: {reason}")
                return
            caps = await self._client.get(f"{url}/v1/capabilities")
            caps.raise_for_status()
            capabilities = Capabilities.model_validate_json(caps.content)
        except (httpx.HTTPError, ValidationError, ValueError) as exc:
            self._mark(handle, ready=False, error=f"unreachable: {type(exc).__name__}: {exc}")
            return
        handle.capabilities = capabilities
        handle.voice_ids = frozenset(v.id for v in capabilities.voices)
        self._mark(handle, ready=True, error=None)

    @staticmethod
    def _mark(handle: ProviderHandle, *, ready: bool, error: str | None) -> None:
        if handle.ready != ready:
            log.info(
                "provider %s is now %s%s",
                handle.name,
                "ready" if ready else "not ready",
                f" ({error})" if error else "",
            )
        handle.ready = ready
        handle.last_error = error
        handle.checked_at = time.time()
