"""The providers the router knows right now, with what each last said about itself."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import dataclass, field

import httpx
from pydantic import ValidationError

from chorus_contracts import Capabilities, ReplicaLoad, speaks
from chorus_router.routing.provider_health import Clock, Peers, ProviderHealth
from chorus_router.routing.registry import ProviderEntry
from chorus_router.routing.replicas import Balancing, Replica, Replicas

log = logging.getLogger("chorus.router.pool")

_BLEND_PART = r"\s*[^+()\s]+\s*(?:\([^()]*\))?\s*"
_BLEND = re.compile(rf"{_BLEND_PART}(?:\+{_BLEND_PART})*")
_BLEND_NAME = re.compile(r"[^+()\s]+(?=\s*(?:\(|\+|$))")


def _map_blend(blend: str, aliases: dict[str, str]) -> str:
    """Alias the names in a well-formed blend; a malformed one goes on for the provider to
    refuse with its own message."""
    if _BLEND.fullmatch(blend) is None:
        return blend
    return _BLEND_NAME.sub(lambda m: aliases.get(m.group(0), m.group(0)), blend)


@dataclass(eq=False)
class ProviderHandle:
    """A provider entry plus its live state; kept across registry updates by name."""

    entry: ProviderEntry
    health: ProviderHealth
    replicas: Replicas
    capabilities: Capabilities | None = None
    ready: bool = False
    last_error: str | None = None
    checked_at: float | None = None
    voice_ids: frozenset[str] = field(default_factory=frozenset)
    # Set while `ready`: what a request held for a provider that scaled to zero waits on.
    became_ready: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def name(self) -> str:
        return self.entry.name

    def speaks(self, language: str) -> bool:
        """Unknown until capabilities arrive; an empty language list means any language."""
        return self.capabilities is None or speaks(self.capabilities.languages, language)

    def offers_voice(self, voice: str) -> bool:
        """Unknown until capabilities arrive; then the provider's own voice list decides."""
        if self.capabilities is None or voice in self.voice_ids:
            return True
        base, plus, variant = voice.partition("+")
        return bool(plus) and base in self.voice_ids and variant in self.capabilities.voice_variants

    def engine_voice(self, requested: str) -> str | None:
        """The provider's voice id for an OpenAI voice name or one of its own voice ids.

        A blend ("a(2)+b(1)") goes to a provider that blends, each part through the alias
        map; the provider itself checks the parts and the weights.
        """
        if requested in self.entry.voices:
            return self.entry.voices[requested]
        blends = self.capabilities is not None and self.capabilities.voice_blending
        if blends and ("+" in requested or "(" in requested):
            return _map_blend(requested, self.entry.voices)
        return requested if self.offers_voice(requested) else None

    def takes_text(self, characters: int) -> bool:
        return self.capabilities is None or characters <= self.capabilities.max_text_length

    def takes_speed(self, speed: float) -> bool:
        if self.capabilities is None:
            return True
        low, high = self.capabilities.speed_range
        return low <= speed <= high


class ProviderPool:
    """Holds one handle per registered provider and polls each one's readiness."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        poll_interval_s: float,
        check_timeout_s: float,
        clock: Clock = time.time,
        peers: Peers | None = None,
        balancing: Balancing = "least-request",
    ) -> None:
        self._client = client
        self._clock = clock
        self._peers = peers
        self._balancing = balancing
        self._poll_interval_s = poll_interval_s
        self._check_timeout = httpx.Timeout(check_timeout_s)
        self._handles: dict[str, ProviderHandle] = {}

    def update(self, entries: list[ProviderEntry]) -> None:
        """Swap in a new registry; a provider whose URL is unchanged keeps its state, and so
        does each replica still listed."""
        fresh: dict[str, ProviderHandle] = {}
        for entry in entries:
            policy = entry.routing.breaker
            handle = self._handles.get(entry.name)
            if handle is not None and handle.entry.url == entry.url:
                handle.entry = entry
                handle.health.apply(policy)
            else:
                health = ProviderHealth(entry.name, policy, self._clock, self._peers)
                replicas = Replicas(entry.name, policy, self._clock, self._balancing)
                handle = ProviderHandle(entry, health, replicas)
            handle.replicas.update(entry.endpoints, policy)
            fresh[entry.name] = handle
        self._handles = fresh

    def healths(self) -> list[ProviderHealth]:
        return [h.health for h in self._handles.values()]

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

    async def poll_forever(self) -> None:
        while True:
            await self.refresh()
            await asyncio.sleep(self._poll_interval_s)

    async def refresh(self) -> None:
        handles = self.all()
        if handles:
            await asyncio.gather(*(self._check(h) for h in handles))

    async def _check(self, handle: ProviderHandle) -> None:
        """Ready when any replica is; capabilities from the first ready one."""
        replicas = handle.replicas.all()
        errors = await asyncio.gather(*(self._check_replica(r) for r in replicas))
        ready = [r for r in replicas if r.ready]
        if not ready:
            self._mark(handle, ready=False, error=errors[0])
            return
        try:
            caps = await self._client.get(
                f"{ready[0].url}/v1/capabilities", timeout=self._check_timeout
            )
            caps.raise_for_status()
            capabilities = Capabilities.model_validate_json(caps.content)
        except (httpx.HTTPError, ValidationError, ValueError) as exc:
            self._mark(handle, ready=False, error=f"unreachable: {type(exc).__name__}: {exc}")
            return
        handle.capabilities = capabilities
        handle.voice_ids = frozenset(v.id for v in capabilities.voices)
        self._mark(handle, ready=True, error=None)

    async def _check_replica(self, replica: Replica) -> str | None:
        """Poll one replica's readiness and load; the reason when it is not ready."""
        try:
            answer = await self._client.get(f"{replica.url}/readyz", timeout=self._check_timeout)
            if answer.status_code != 200:
                reason = _body(answer).get("reason", f"HTTP {answer.status_code}")
                replica.ready = False
                replica.observed(None)
                return f"not ready: {reason}"
        except (httpx.HTTPError, ValueError) as exc:
            replica.ready = False
            replica.observed(None)
            return f"unreachable: {type(exc).__name__}: {exc}"
        replica.ready = True
        replica.observed(_load(answer))
        return None

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
        if ready:
            handle.became_ready.set()
        else:
            handle.became_ready.clear()
        handle.last_error = error
        handle.checked_at = time.time()


def _body(response: httpx.Response) -> dict[str, object]:
    body = response.json()
    if not isinstance(body, dict):
        raise ValueError("the readiness answer is not a JSON object")
    return body


def _load(response: httpx.Response) -> ReplicaLoad | None:
    """The load a ready replica reported; None from a provider that reports none."""
    try:
        return ReplicaLoad.model_validate(_body(response).get("load"))
    except (ValidationError, ValueError):
        return None
