"""Windows many streams want decoded at once share codec calls, and each gets its own wave.

The codec here is a recording one: a window's wave is its frames' first codebook,
repeated, so a caller can tell its own wave from another's.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
import numpy.typing as npt
import pytest
import torch

from chorus_torch import FrameWindows, SharedDecoder

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


class CountingCodec:
    """Decodes (windows, frames, codebooks) at once, recording the windows of each call."""

    def __init__(self) -> None:
        self.calls: list[int] = []

    def __call__(self, frames: torch.Tensor) -> npt.NDArray[np.floating]:
        self.calls.append(int(frames.shape[0]))
        return frames[:, :, 0].repeat_interleave(2, dim=1).float().numpy()


async def test_windows_asked_for_in_one_pass_of_the_loop_are_decoded_in_one_call() -> None:
    codec = CountingCodec()
    decoder = SharedDecoder(codec)
    with ThreadPoolExecutor(2) as pool:
        # As the streams of one step do: each asks as its frames arrive, in one pass.
        waves = await asyncio.gather(
            *(decoder.decode_soon(window(value), pool) for value in range(1, 9))
        )
        alone = await decoder.decode_soon(window(9, frames=2), pool)
    assert [wave.tolist() for wave in waves] == [[float(v)] * 8 for v in range(1, 9)]
    assert alone.tolist() == [9.0] * 4
    assert codec.calls == [8, 1]


async def test_a_stream_that_leaves_while_its_window_decodes_leaves_the_others_theirs() -> None:
    codec = RecordingCodec()
    decoder = SharedDecoder(codec)
    with ThreadPoolExecutor(2) as pool:
        asked = [asyncio.ensure_future(decoder.decode_soon(window(v), pool)) for v in (1, 2, 3)]
        await asyncio.get_running_loop().run_in_executor(None, codec.started.wait, TIMEOUT_S)
        asked[1].cancel()  # its client went away mid-decode
        codec.let_go.set()
        done = await asyncio.gather(*asked, return_exceptions=True)
    assert isinstance(done[1], asyncio.CancelledError)
    assert isinstance(done[0], np.ndarray)
    assert isinstance(done[2], np.ndarray)
    assert [done[0].tolist(), done[2].tolist()] == [[1.0] * 8, [3.0] * 8]
    assert codec.calls == [3]


async def test_a_failed_call_fails_the_windows_of_its_pass_and_the_next_pass_decodes() -> None:
    codec = RecordingCodec()
    codec.fail_next = True
    codec.let_go.set()
    decoder = SharedDecoder(codec)
    with ThreadPoolExecutor(2) as pool:
        failed = await asyncio.gather(
            *(decoder.decode_soon(window(v), pool) for v in (1, 2)), return_exceptions=True
        )
        assert all(isinstance(error, RuntimeError) for error in failed)
        assert (await decoder.decode_soon(window(3), pool)).tolist() == [3.0] * 8


def test_warming_decodes_each_count_of_windows_once() -> None:
    codec = CountingCodec()
    SharedDecoder(codec).warm(FrameWindows(4, 0), window(0), up_to=4)
    assert codec.calls == [1, 2, 3, 4]


def test_warming_decodes_each_window_length_a_stream_meets_up_to_the_steady_one() -> None:
    shapes: list[tuple[int, int, int]] = []

    def codec(frames: torch.Tensor) -> npt.NDArray[np.floating]:
        shapes.append((frames.shape[0], frames.shape[1], frames.shape[2]))
        return np.zeros((frames.shape[0], frames.shape[1]), dtype=np.float32)

    windows = FrameWindows(4, context=2, first=1)
    SharedDecoder(codec).warm(windows, torch.zeros((16, 9), dtype=torch.long), up_to=3)
    # Windows of 1, then 2 after 1 of context, then 4 after 2: the steady one.
    assert shapes == [(n, length, 9) for length in (1, 3, 6) for n in (1, 2, 3)]


async def test_windows_asked_for_after_the_executor_shut_down_fail_instead_of_waiting() -> None:
    decoder = SharedDecoder(CountingCodec())
    pool = ThreadPoolExecutor(1)
    pool.shutdown()
    with pytest.raises(RuntimeError, match="shutdown"):
        await decoder.decode_soon(window(1), pool)


# A codec of convolutions, warmed for 8 streams as a provider does at load, then asked
# for every warmed shape again with oneDNN saying which kernels it had to build. It runs
# in a process of its own: oneDNN sizes its cache when a process builds its first kernel.
_WARMED_THEN_DECODED = """
import numpy as np, torch
from chorus_torch import FrameWindows, SharedDecoder

torch.manual_seed(0)
torch.set_num_threads(1)
# Layers of different widths: oneDNN builds a kernel per layer and input shape.
widths = [3] + [8 + 2 * i for i in range(40)]
layers = [torch.nn.Conv1d(a, b, 7, padding=3) for a, b in zip(widths, widths[1:])]
net = torch.nn.Sequential(*layers).eval()

def codec(frames):
    return net(frames.transpose(1, 2).float()).mean(dim=1).detach().numpy()

decoder = SharedDecoder(codec)
windows = lambda: FrameWindows(32, context=8, first=6)
decoder.warm(windows(), torch.zeros((128, 3), dtype=torch.long), up_to=8)
told = torch.backends.mkldnn.verbose(torch.backends.mkldnn.VERBOSE_ON_CREATION)
with torch.inference_mode(), told:
    decoder.warm(windows(), torch.ones((128, 3), dtype=torch.long), up_to=8)
"""


def test_a_warmed_codec_on_the_cpu_builds_no_kernel_when_streams_come() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _WARMED_THEN_DECODED],
        capture_output=True,
        text=True,
        timeout=300,
        env={k: v for k, v in os.environ.items() if k != "ONEDNN_PRIMITIVE_CACHE_CAPACITY"},
        check=True,
    )
    kernels = [line for line in done.stdout.splitlines() if ",primitive,create:" in line]
    assert kernels, "oneDNN said nothing: the codec ran no CPU kernel"
    rebuilt = [line for line in kernels if "create:cache_miss" in line]
    assert not rebuilt, f"{len(rebuilt)} of {len(kernels)} kernels were built again"
