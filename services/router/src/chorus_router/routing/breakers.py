"""One circuit breaker per provider: pybreaker's state machine, driven by async attempts.

pybreaker guards synchronous calls, so each finished attempt is replayed into it as a call
that returns or raises (its public API only); what it adds here is a permit that lets exactly
one trial request through while half-open, and an injected clock for the reset timeout.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from enum import IntEnum

import pybreaker

from chorus_contracts import BreakerPolicy


class BreakerState(IntEnum):
    """Values of the `tts_circuit_breaker_state` gauge."""

    CLOSED = 0
    HALF_OPEN = 1
    OPEN = 2


_STATES = {
    pybreaker.STATE_CLOSED: BreakerState.CLOSED,
    pybreaker.STATE_HALF_OPEN: BreakerState.HALF_OPEN,
    pybreaker.STATE_OPEN: BreakerState.OPEN,
}


@dataclass(frozen=True)
class Permit:
    """Leave to call the provider; `probe` marks the one trial call of a half-open breaker."""

    probe: bool


class _Failed(Exception):
    """What the breaker sees for a failed attempt (the real error is handled elsewhere)."""


def _succeed() -> None:
    return None


def _fail() -> None:
    raise _Failed


class _OpenedAt(pybreaker.CircuitBreakerListener):
    """Notes when pybreaker opens the circuit, by the breaker's own clock."""

    def __init__(self, breaker: ProviderBreaker) -> None:
        self._breaker = breaker

    def state_change(
        self,
        cb: pybreaker.CircuitBreaker,
        old_state: pybreaker.CircuitBreakerState | None,
        new_state: pybreaker.CircuitBreakerState,
    ) -> None:
        if new_state.name == pybreaker.STATE_OPEN:
            self._breaker.opened_at = self._breaker.clock()


class ProviderBreaker:
    """pybreaker counts failures and moves between states; the reset timeout runs on `clock`.

    Outcomes are never replayed into an open circuit, so pybreaker's own wall-clock check
    never decides anything and tests can move time by hand.
    """

    def __init__(self, name: str, policy: BreakerPolicy, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.opened_at: float | None = None
        self._cb = pybreaker.CircuitBreaker(
            fail_max=policy.fail_max,
            reset_timeout=policy.reset_timeout_s,
            name=name,
            throw_new_error_on_trip=False,
            listeners=[_OpenedAt(self)],
        )
        self._probe_out = False

    def apply(self, policy: BreakerPolicy) -> None:
        """New thresholds from a registry update; state and counts stay."""
        self._cb.fail_max = policy.fail_max
        self._cb.reset_timeout = policy.reset_timeout_s

    @property
    def state(self) -> BreakerState:
        state = _STATES[self._cb.current_state]
        if state is BreakerState.OPEN and self.open_until() is None:
            return BreakerState.HALF_OPEN
        return state

    @property
    def failures(self) -> int:
        """Consecutive failures counted toward `fail_max`."""
        return int(self._cb.fail_counter)

    def open_until(self) -> float | None:
        """When an open breaker lets a probe through (epoch seconds); None unless waiting."""
        if self._cb.current_state != pybreaker.STATE_OPEN or self.opened_at is None:
            return None
        until = self.opened_at + self._cb.reset_timeout
        return until if until > self.clock() else None

    def permit(self) -> Permit | None:
        """A permit to call, or None: open and waiting, or a probe already out."""
        current = self._cb.current_state
        if current == pybreaker.STATE_CLOSED:
            return Permit(probe=False)
        if current == pybreaker.STATE_OPEN:
            if self.open_until() is not None:
                return None
            self._cb.half_open()
        if self._probe_out:
            return None
        self._probe_out = True
        return Permit(probe=True)

    def succeeded(self, permit: Permit) -> None:
        self._record(_succeed)
        self._release(permit)

    def failed(self, permit: Permit | None) -> None:
        """Count a provider failure (also after the first byte, when there is no permit)."""
        self._record(_fail)
        if permit is not None:
            self._release(permit)

    def released(self, permit: Permit) -> None:
        """The attempt ended with no verdict on the provider (a client error, a cancel)."""
        self._release(permit)

    def open_until_peer_says(self, until: float) -> None:
        """Open because another replica's breaker opened; probe when its timeout ends."""
        self._cb.open()
        self.opened_at = until - self._cb.reset_timeout

    def close(self) -> None:
        self._cb.close()

    def _record(self, outcome: Callable[[], None]) -> None:
        if self._cb.current_state == pybreaker.STATE_OPEN:
            return
        with suppress(_Failed, pybreaker.CircuitBreakerError):
            self._cb.call(outcome)

    def _release(self, permit: Permit) -> None:
        if permit.probe:
            self._probe_out = False
