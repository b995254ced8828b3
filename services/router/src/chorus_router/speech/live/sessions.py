"""How many live sessions this replica holds open, in all and per caller, up to its limits."""

from __future__ import annotations

from collections import Counter

from prometheus_client import Gauge

from chorus_contracts import RateLimited


class SessionsFull(RateLimited):
    """No slot for one more session: the replica's, or the caller's, limit is reached."""


class SessionSlots:
    """Admission of live sessions on one replica; the gauge shows how many are open."""

    def __init__(self, limit: int, per_caller: int, gauge: Gauge) -> None:
        self._limit = limit
        self._per_caller = per_caller
        self._open = 0
        self._by_caller: Counter[str] = Counter()
        self._gauge = gauge

    def take(self, caller: str | None) -> None:
        """A slot for one more session of `caller` (None: auth is off), or SessionsFull."""
        if self._open >= self._limit:
            raise SessionsFull(f"this replica has {self._limit} live sessions open")
        if caller is not None and self._by_caller[caller] >= self._per_caller:
            raise SessionsFull(f"this key has {self._per_caller} live sessions open")
        self._open += 1
        if caller is not None:
            self._by_caller[caller] += 1
        self._gauge.inc()

    def give_back(self, caller: str | None) -> None:
        self._open -= 1
        if caller is not None:
            self._by_caller[caller] -= 1
            if not self._by_caller[caller]:
                del self._by_caller[caller]
        self._gauge.dec()
