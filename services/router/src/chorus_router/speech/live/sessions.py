"""How many live sessions this replica holds open, up to its limit."""

from __future__ import annotations

from prometheus_client import Gauge


class SessionSlots:
    """Admission of live sessions on one replica; the gauge shows how many are open."""

    def __init__(self, limit: int, gauge: Gauge) -> None:
        self._limit = limit
        self._open = 0
        self._gauge = gauge

    @property
    def limit(self) -> int:
        return self._limit

    def take(self) -> bool:
        """A slot for one more session, or False at the limit."""
        if self._open >= self._limit:
            return False
        self._open += 1
        self._gauge.inc()
        return True

    def give_back(self) -> None:
        self._open -= 1
        self._gauge.dec()
