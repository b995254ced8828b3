"""How fast one live session may send messages: a token bucket of the session's own.

An agent streams an LLM's tokens one message each, in bursts when the LLM is fast or
when it sends an answer it already holds; the bucket lets a burst of `burst` messages
through and then `per_second`. The `limits` library counts callers in a shared store;
a session's count needs no store, and its memory store runs a timer thread per store.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class MessageRate:
    """`admit` says whether one more message is within the rate."""

    def __init__(
        self, per_second: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._per_second = per_second
        self._burst = float(burst)
        self._clock = clock
        self._tokens = float(burst)
        self._last = clock()

    def admit(self) -> bool:
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._last) * self._per_second)
        self._last = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True
