"""onnxruntime sessions whose runs a CancelSignal can stop in the middle of a model call.

piper-tts and kokoro-onnx call `session.run(None, feeds)` themselves and take no
`RunOptions`, so the engine swaps their session for a `CancellableSession`: each worker
thread binds the current request's signal around its library call, and every run made on
that thread passes `RunOptions` whose `terminate` flag the signal sets. onnxruntime then
fails the run between two graph nodes, typically within milliseconds.

The same options shrink onnxruntime's CPU memory arena at the end of each run. Text
lengths make every run's tensors a new size, and the arena otherwise keeps the largest
ever allocated (plus the plans it caches per shape): a Kokoro process grew by a fifth over
forty pieces of varied length, and stays flat with the shrinkage (docs/performance.md).
Giving the arena back costs the next run its allocations (Piper's whole text ran 15% slower
with a shrink after every piece), so the pieces of one request, all about one size, may
keep it for each other (`keeping_arena`) and only the request's last piece gives it back.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from chorus_provider.cancel import CancelSignal

# onnxruntime's run option: the named devices' arenas give back unused memory after the run.
ARENA_SHRINKAGE = "memory.enable_memory_arena_shrinkage"


class CancellableSession:
    """Wraps an `onnxruntime.InferenceSession`; everything but `run` passes through."""

    def __init__(self, session: Any) -> None:
        self._session = session
        self._local = threading.local()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)

    def run(self, output_names: Any, input_feed: Any, run_options: Any = None) -> Any:
        options = run_options if run_options is not None else getattr(self._local, "options", None)
        return self._session.run(output_names, input_feed, options)

    @contextmanager
    def cancelled_by(self, cancel: CancelSignal) -> Iterator[None]:
        """Runs on this thread inside the block stop once `cancel` is set."""
        import onnxruntime

        options = onnxruntime.RunOptions()
        if not getattr(self._local, "keep_arena", False):
            options.add_run_config_entry(ARENA_SHRINKAGE, "cpu:0")

        def terminate() -> None:
            options.terminate = True

        forget = cancel.on_cancel(terminate)
        self._local.options = options
        try:
            yield
        finally:
            self._local.options = None
            forget()

    @contextmanager
    def keeping_arena(self) -> Iterator[None]:
        """Runs on this thread inside the block keep the CPU arena for the runs after them."""
        self._local.keep_arena = True
        try:
            yield
        finally:
            self._local.keep_arena = False
