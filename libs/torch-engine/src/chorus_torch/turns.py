"""Model work on a CPU, one piece at a time, in the order it was asked for."""

from __future__ import annotations

import threading
from collections import deque
from types import TracebackType

from chorus_torch.device import Placement


class Turns:
    """A lock that goes to whoever asked for it first.

    Python's own lock lets the thread that releases it take it straight back: a batch
    thread stepping in a loop would keep it from the codec until the batch ended. Here
    the next turn is the one asked for first.
    """

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._asking: deque[object] = deque()
        self._taken = False

    def __enter__(self) -> None:
        me = object()
        with self._changed:
            self._asking.append(me)
            self._changed.wait_for(lambda: not self._taken and self._asking[0] is me)
            self._asking.popleft()
            self._taken = True

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        with self._changed:
            self._taken = False
            self._changed.notify_all()


def device_turns(placement: Placement) -> Turns | None:
    """Turns for a model's steps and its codec's calls on the CPU; none on a GPU.

    On a CPU both run on the same cores and under the same interpreter lock: side by side,
    a step of 8 tiny Higgs members took 7-8 ms against 3.5 alone, and a codec call of their
    8 first windows 25-70 ms against 8-11, so the first audio (which waits for the codec)
    came later than if the codec had had the CPU between two steps. On a GPU their kernels
    queue on the device and one's launching overlaps the other's running, which turns
    would undo.
    """
    return None if placement.on_gpu else Turns()
