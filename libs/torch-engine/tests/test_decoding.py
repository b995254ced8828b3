"""Windows many streams want decoded at once share codec calls, and each gets its own wave.

The codec here is a recording one: a window's wave is its frames' first codebook,
repeated, so a caller can tell its own wave from another's.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
import numpy.typing as npt
import pytest
import torch

from chorus_torch import SharedDecoder

TIMEOUT_S = 30


class RecordingCodec:
    """Decodes (windows, frames, codebooks); the first call waits until it is let go."""

    def __init__(self) -> None:
        self.calls: list[int] = []  # windows per call
        self.let_go = threading.Event()
        self.started = threading.Event()
        self.fail_next = False

    def __call__(self, frames: torch.Tensor) -> npt.NDArray[np.floating]:
        self.started.set()
        assert self.let_go.wait(TIMEOUT_S)
        self.calls.append(int(frames.shape[0]))
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("the codec failed")
        return frames[:, :, 0].repeat_interleave(2, dim=1).float().numpy()


def window(value: int, frames: int = 4) -> torch.Tensor:
    return torch.full((frames, 3), value)


def wait_for_waiting(decoder: SharedDecoder, count: int) -> None:
    """Readiness poll: `count` windows queued behind the running call."""
    done = threading.Event()
    while decoder.waiting < count:
        done.wait(0.01)


def test_windows_waiting_together_are_decoded_in_one_call_each_to_its_own_wave() -> None:
    codec = RecordingCodec()
    decoder = SharedDecoder(codec)
    with ThreadPoolExecutor(8) as pool:
        first = pool.submit(decoder.decode, window(1))
        assert codec.started.wait(TIMEOUT_S)
        rest = [pool.submit(decoder.decode, window(value)) for value in range(2, 8)]
        wait_for_waiting(decoder, 6)
        codec.let_go.set()
        waves = [first.result(TIMEOUT_S)] + [f.result(TIMEOUT_S) for f in rest]
    assert [wave.tolist() for wave in waves] == [[float(v)] * 8 for v in range(1, 8)]
    assert codec.calls == [1, 6]


def test_windows_of_different_lengths_are_decoded_apart() -> None:
    codec = RecordingCodec()
    decoder = SharedDecoder(codec)
    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(decoder.decode, window(1))
        assert codec.started.wait(TIMEOUT_S)
        short = pool.submit(decoder.decode, window(2, frames=2))
        long = [pool.submit(decoder.decode, window(3)) for _ in range(2)]
        wait_for_waiting(decoder, 3)
        codec.let_go.set()
        assert short.result(TIMEOUT_S).tolist() == [2.0] * 4
        assert [f.result(TIMEOUT_S).tolist() for f in long] == [[3.0] * 8] * 2
        first.result(TIMEOUT_S)
    assert sorted(codec.calls) == [1, 1, 2]


def test_a_failed_codec_call_fails_its_windows_and_the_next_ones_decode() -> None:
    codec = RecordingCodec()
    decoder = SharedDecoder(codec)
    codec.fail_next = True
    codec.let_go.set()
    with ThreadPoolExecutor(2) as pool:
        failed: Future[npt.NDArray[np.floating]] = pool.submit(decoder.decode, window(1))
        with pytest.raises(RuntimeError, match="codec failed"):
            failed.result(TIMEOUT_S)
        assert pool.submit(decoder.decode, window(2)).result(TIMEOUT_S).tolist() == [2.0] * 8
