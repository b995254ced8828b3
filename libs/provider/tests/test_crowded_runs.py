"""A run that starts while another is in flight uses the session's crowded copy of the model,
and a lone run the full one: two tiny models that differ only in a constant tell them apart."""

from __future__ import annotations

import threading

import numpy as np
import onnxruntime as ort
import pytest

from chorus_provider.onnx_runs import CancellableSession, crowded_options
from chorus_provider.testing.tiny_onnx import sized_ones

SLOW = 64_000_000  # floats: a run long enough to start another beside it


def _run(session: CancellableSession, size: int) -> float:
    (total,) = session.run(None, {"shape": np.array([size], dtype=np.int64)})
    return float(total)


def _run_into(results: list[float], session: CancellableSession, size: int) -> None:
    results.append(_run(session, size))


@pytest.fixture
def session() -> CancellableSession:
    full = ort.InferenceSession(sized_ones(1.0))
    crowded = ort.InferenceSession(sized_ones(2.0), sess_options=crowded_options(1))
    return CancellableSession(full, crowded)


def test_a_lone_run_uses_the_full_session(session: CancellableSession) -> None:
    assert _run(session, 1000) == 1000
    assert session.runs_in_flight == 0


def test_a_run_beside_another_uses_the_crowded_copy(session: CancellableSession) -> None:
    for _ in range(5):  # the slow run may, rarely, end before the second one starts
        slow: list[float] = []
        worker = threading.Thread(target=_run_into, args=(slow, session, SLOW))
        worker.start()
        while session.runs_in_flight == 0 and worker.is_alive():
            pass  # onnxruntime releases the GIL while it runs
        beside = _run(session, 1000) if session.runs_in_flight else None
        worker.join()
        assert slow == [SLOW], "the first run kept the full session"
        if beside is not None:
            assert beside == 2000
            break
    else:
        pytest.fail("never managed to start a run beside another")
    assert _run(session, 1000) == 1000, "alone again: the full session"
