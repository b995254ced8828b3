"""One provider's health as routing sees it: circuit breaker, Retry-After cool-down, last failure.

Routing asks it for leave to call and tells it how each attempt ended; the response stream
tells it about failures after the first byte. With peers (other router replicas, through
Redis) an open breaker and a cool-down are published and taken over from them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from chorus_contracts import BreakerPolicy, ChorusError
from chorus_router.routing.breakers import BreakerState, Permit, ProviderBreaker

Clock = Callable[[], float]
# A provider asking for more than this is still tried again after it.
MAX_COOLDOWN_S = 60.0


@dataclass(frozen=True)
class Failure:
    """The last thing that went wrong with a provider, for the health view."""

    code: str
    message: str
    at: float


class Peers(Protocol):
    """Where replicas share what they learned about a provider (see health_sync.py)."""

    def opened(self, provider: str, until: float) -> None: ...

    def closed(self, provider: str) -> None: ...

    def cooling_down(self, provider: str, until: float) -> None: ...


class ProviderHealth:
    """Whether a provider may be called now, and what it last did wrong."""

    def __init__(
        self, name: str, policy: BreakerPolicy, clock: Clock, peers: Peers | None = None
    ) -> None:
        self.name = name
        self._clock = clock
        self._peers = peers
        self._breaker = ProviderBreaker(name, policy, clock)
        self._opened_by_peer = False
        self.last_failure: Failure | None = None
        self.cooldown_until = 0.0

    def apply(self, policy: BreakerPolicy) -> None:
        self._breaker.apply(policy)

    @property
    def state(self) -> BreakerState:
        return self._breaker.state

    @property
    def failures(self) -> int:
        return self._breaker.failures

    def open_until(self) -> float | None:
        return self._breaker.open_until()

    def cooling_down(self) -> bool:
        return self._clock() < self.cooldown_until

    def recovers_at(self) -> float | None:
        """When a provider now refused (open breaker, cool-down) may be tried again."""
        waits = [t for t in (self.open_until(), self.cooldown_until) if t and t > self._clock()]
        return max(waits) if waits else None

    def permit(self) -> Permit | None:
        return self._breaker.permit()

    def succeeded(self, permit: Permit) -> None:
        was_open = self._breaker.state is not BreakerState.CLOSED
        self._breaker.succeeded(permit)
        if was_open and self._breaker.state is BreakerState.CLOSED:
            self._opened_by_peer = False
            if self._peers is not None:
                self._peers.closed(self.name)

    def released(self, permit: Permit) -> None:
        """The attempt ended with no verdict on the provider (a client error, a cancel)."""
        self._breaker.released(permit)

    def failed(
        self, error: ChorusError, permit: Permit | None, *, one_of_several: bool = False
    ) -> None:
        """Record a failure before or (without a permit) after the first byte; the error's
        type says whether it is a cool-down (backpressure) and whether the breaker hears it.
        A failure of `one_of_several` replicas is its replica's (see replicas.py): the
        provider stays open to its other replicas, without breaker or cool-down."""
        now = self._clock()
        self.last_failure = Failure(error.code, error.message, now)
        if one_of_several:
            if permit is not None:
                self._breaker.released(permit)
            return
        if error.retry_after and error.backpressure:
            until = now + min(error.retry_after, MAX_COOLDOWN_S)
            if until > self.cooldown_until:
                self.cooldown_until = until
                if self._peers is not None:
                    self._peers.cooling_down(self.name, until)
        if not error.counts_against_breaker:
            if permit is not None:
                self._breaker.released(permit)
            return
        was_waiting = self._breaker.open_until() is not None
        self._breaker.failed(permit)
        opened_until = self._breaker.open_until()
        if opened_until is not None and not was_waiting:
            self._opened_by_peer = False
            if self._peers is not None:
                self._peers.opened(self.name, opened_until)

    def heard_from_peers(self, open_until: float | None, cooldown_until: float | None) -> None:
        """Take over what other replicas published: an open breaker, a longer cool-down."""
        now = self._clock()
        if open_until is not None and open_until > now:
            if (self._breaker.open_until() or 0.0) < open_until - 0.001:
                self._breaker.open_until_peer_says(open_until)
                self._opened_by_peer = True
        elif self._opened_by_peer and self._breaker.open_until() is not None:
            # Withdrawn before its time: the replica that opened it saw a probe succeed.
            self._breaker.close()
            self._opened_by_peer = False
        if cooldown_until is not None and cooldown_until > self.cooldown_until:
            self.cooldown_until = cooldown_until
