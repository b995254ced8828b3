"""Kokoro's (and Piper's) onnxruntime runs give their memory back when they end.

Every piece of text makes tensors of a new size; an arena that keeps its largest
allocation makes a provider's memory step up with the longest piece it has seen. A tiny
model whose one input sets the size of an intermediate tensor stands in for a long piece,
run through the same `CancellableSession` the engines use.
"""

from __future__ import annotations

import numpy as np
import onnxruntime as ort

from chorus_provider import CancelSignal
from chorus_provider.onnx_runs import CancellableSession
from chorus_provider.testing.tiny_onnx import sized_ones

BIG = 64_000_000  # floats: a 256 MB intermediate tensor


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096 / 2**20


def test_a_large_run_leaves_no_large_arena_behind() -> None:
    session = CancellableSession(ort.InferenceSession(sized_ones()))
    with session.cancelled_by(CancelSignal()):
        session.run(None, {"shape": np.array([1000], dtype=np.int64)})
        before = _rss_mb()
        (total,) = session.run(None, {"shape": np.array([BIG], dtype=np.int64)})
        after = _rss_mb()
    assert total == BIG  # the large tensor was really made
    # Kept, the arena would hold the 256 MB tensor; given back, a few MB remain.
    assert after - before < 64, f"RSS grew {after - before:.0f} MB after one large run"


def test_the_last_piece_gives_back_what_earlier_pieces_kept() -> None:
    """The pieces of one request keep the arena for each other (they are about one size, and
    reallocating it made Piper 15% slower); the request's last run lets it go."""
    session = CancellableSession(ort.InferenceSession(sized_ones()))
    with session.cancelled_by(CancelSignal()):
        session.run(None, {"shape": np.array([1000], dtype=np.int64)})
    before = _rss_mb()
    with session.keeping_arena(), session.cancelled_by(CancelSignal()):
        session.run(None, {"shape": np.array([BIG], dtype=np.int64)})
    with session.cancelled_by(CancelSignal()):
        session.run(None, {"shape": np.array([1000], dtype=np.int64)})
    after = _rss_mb()
    assert after - before < 64, f"RSS grew {after - before:.0f} MB after the request ended"
