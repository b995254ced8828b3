"""The signal that a synthesis has lost its listener, shared by the app and its engine.

The provider app sets it when the response is closed or abandoned (the router or client
went away, before or after the first byte). Engines look at it between pieces of work and,
where the library has an abort hook (onnxruntime's `RunOptions.terminate`, killing a
subprocess), register that hook with `on_cancel` so work stops in the middle of a piece.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger("chorus.provider.cancel")


class Cancelled(Exception):
    """The synthesis was stopped because nobody waits for its audio any more."""


class CancelSignal:
    """Set once, from any thread; callbacks registered with `on_cancel` run exactly once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._set = False
        self._callbacks: list[Callable[[], object]] = []

    @property
    def is_set(self) -> bool:
        return self._set

    def set(self) -> None:
        """Cancel: run the registered abort hooks now (later setters do nothing)."""
        with self._lock:
            if self._set:
                return
            self._set = True
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            _run(callback)

    def raise_if_set(self) -> None:
        if self._set:
            raise Cancelled("the synthesis was cancelled")

    def on_cancel(self, callback: Callable[[], object]) -> Callable[[], None]:
        """Run `callback` when the signal is set (at once if it already is).

        Returns a function that unregisters it, for hooks that only make sense while one
        piece of work runs (a subprocess that has already exited must not be killed).
        """
        with self._lock:
            if not self._set:
                self._callbacks.append(callback)
                return lambda: self._forget(callback)
        _run(callback)
        return lambda: None

    def _forget(self, callback: Callable[[], object]) -> None:
        with self._lock:
            if callback in self._callbacks:
                self._callbacks.remove(callback)


def _run(callback: Callable[[], object]) -> None:
    # An abort hook that fails must not keep the others from running.
    try:
        callback()
    except Exception:
        log.exception("a cancel hook failed")
