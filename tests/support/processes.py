"""Start Chorus services as real processes and wait until they answer."""

from __future__ import annotations

import time

# The launcher lives in libs so that provider packages' own tests (the contract kit) use it.
from chorus_provider.testing.process import ServiceProcess, free_port

__all__ = ["ServiceProcess", "free_port", "wait_until"]


def wait_until(predicate: object, timeout_s: float, interval_s: float = 0.05) -> bool:
    """Poll `predicate()` until it is true or the time is up; returns the last answer."""
    assert callable(predicate)
    deadline = time.monotonic() + timeout_s
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval_s)
