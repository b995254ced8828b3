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

Every session stops its threads spinning as soon as a run returns (`session_options`).
Spinning between nodes keeps a lone run fast, but after the run that made a response's
last piece the same threads kept spinning on both cores while the router and the client
needed them to pass that audio on: Piper's first byte through the router waited 3 to 4 ms
longer for it (docs/performance.md, router overhead).

A session may also have a second copy of the model for runs that share the cores with
others (`crowded`): few intra-op threads that do not spin while they wait. A lone run is
fastest with every core, spinning between nodes; two such runs on two cores fight over
them, and their spinning threads starve each other (Piper made 22.5x realtime for two
clients with one session, 28.8x with one thread each; docs/performance.md).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from chorus_provider.cancel import CancelSignal

# onnxruntime's run option: the named devices' arenas give back unused memory after the run.
ARENA_SHRINKAGE = "memory.enable_memory_arena_shrinkage"


def session_options(threads: int = 0) -> Any:
    """Session options whose `threads` intra-op threads (0: one per core) stop spinning
    when a run returns."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.add_session_config_entry("session.force_spinning_stop", "1")
    return options


def crowded_options(threads: int) -> Any:
    """Session options for runs made while others run: `threads` intra-op threads that
    sleep, rather than spin, between nodes."""
    options = session_options(threads)
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


class CancellableSession:
    """Wraps an `onnxruntime.InferenceSession`; everything but `run` passes through.

    With `crowded` (the same model, made with `crowded_options`), a run that starts while
    another is in flight uses that session instead.
    """

    def __init__(self, session: Any, crowded: Any = None) -> None:
        self._session = session
        self._crowded = crowded
        self._local = threading.local()
        self._in_flight = 0
        self._count = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)

    @property
    def runs_in_flight(self) -> int:
        return self._in_flight

    def run(self, output_names: Any, input_feed: Any, run_options: Any = None) -> Any:
        options = run_options if run_options is not None else getattr(self._local, "options", None)
        with self._count:
            crowded = self._in_flight > 0 and self._crowded is not None
            self._in_flight += 1
        try:
            session = self._crowded if crowded else self._session
            return session.run(output_names, input_feed, options)
        finally:
            with self._count:
                self._in_flight -= 1

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
