"""A generation in a worker thread, streamed as it decodes, stopped within a step on cancel."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import numpy.typing as npt
import pytest
import torch
from transformers import StoppingCriteriaList

from chorus_contracts import InvalidRequest
from chorus_provider.cancel import Cancelled, CancelSignal
from chorus_torch import CancelCriteria, FrameSink, FrameWindows, stream_generation

SAMPLES_PER_FRAME = 4


async def decode(frames: torch.Tensor) -> npt.NDArray[np.floating]:
    """A stand-in codec: each frame becomes SAMPLES_PER_FRAME samples of its first code."""
    return np.repeat(frames[:, 0].numpy().astype(np.float32) / 1000.0, SAMPLES_PER_FRAME)


def counting(steps: int, stop: StoppingCriteriaList, done: threading.Event) -> object:
    """A decoding loop shaped like `generate`'s: one frame per step, criteria after each."""

    def generate(sink: FrameSink) -> None:
        ids = torch.zeros((1, 1), dtype=torch.long)
        for step in range(steps):
            sink.put(torch.tensor([[step, step]]))
            ids = torch.cat([ids, ids[:, -1:]], dim=1)
            if bool(stop(ids, None).all()):
                break
        done.set()

    return generate


def samples(pcm: bytes) -> list[int]:
    return np.frombuffer(pcm, dtype="<i2").tolist()


@pytest.fixture
def executor() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=2)


async def test_audio_arrives_window_by_window_and_in_order(executor: ThreadPoolExecutor) -> None:
    cancel = CancelSignal()
    stop = StoppingCriteriaList([CancelCriteria(cancel)])
    generate = counting(10, stop, threading.Event())
    chunks = [
        chunk
        async for chunk in stream_generation(
            generate,
            decode,
            FrameWindows(4, 2),
            cancel,
            executor,  # type: ignore[arg-type]
        )
    ]
    assert [len(chunk) // 2 for chunk in chunks] == [16, 16, 8]  # 4 + 4 + 2 frames, context dropped
    expected = np.repeat(np.arange(10) / 1000.0, SAMPLES_PER_FRAME) * 32767.0
    assert samples(b"".join(chunks)) == np.round(expected).astype(int).tolist()


async def test_leaving_early_stops_generate_within_a_step(executor: ThreadPoolExecutor) -> None:
    cancel = CancelSignal()
    stop = StoppingCriteriaList([CancelCriteria(cancel)])
    done = threading.Event()
    stream = stream_generation(
        counting(10**9, stop, done),
        decode,
        FrameWindows(4, 0),
        cancel,
        executor,  # type: ignore[arg-type]
    )
    assert len(await anext(stream)) == 2 * 4 * SAMPLES_PER_FRAME
    await stream.aclose()
    assert cancel.is_set
    assert done.is_set()  # aclose returned only after generate did


async def test_a_cancel_from_outside_ends_the_stream_as_cancelled(
    executor: ThreadPoolExecutor,
) -> None:
    cancel = CancelSignal()
    stop = StoppingCriteriaList([CancelCriteria(cancel)])
    stream = stream_generation(
        counting(10**9, stop, threading.Event()),
        decode,
        FrameWindows(2, 0),
        cancel,
        executor,  # type: ignore[arg-type]
    )
    await anext(stream)
    cancel.set()
    with pytest.raises(Cancelled):
        async for _ in stream:
            pass


async def test_an_error_in_generate_reaches_the_consumer(executor: ThreadPoolExecutor) -> None:
    def generate(sink: FrameSink) -> None:
        raise InvalidRequest("voice_reference is not a WAV file", param="voice_reference")

    with pytest.raises(InvalidRequest, match="WAV"):
        async for _ in stream_generation(
            generate, decode, FrameWindows(2, 0), CancelSignal(), executor
        ):
            pass
