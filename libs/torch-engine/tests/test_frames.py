"""Windows of codec frames: every frame decoded once, each window led by earlier context."""

from __future__ import annotations

import asyncio
import threading

import torch

from chorus_torch import FrameSink, FrameWindows, StepStreamer
from chorus_torch.frames import delivered_together


def frames(start: int, count: int) -> torch.Tensor:
    return torch.arange(start, start + count).repeat(2, 1).T  # (count, 2 codebooks)


def test_windows_cover_every_frame_once_with_context_in_front() -> None:
    windows = FrameWindows(size=4, context=2)
    for start in range(0, 9, 3):
        windows.add(frames(start, 3))
    windows.add(frames(9, 2))  # 11 frames, 0..10
    first = windows.next()
    second = windows.next()
    assert windows.next() is None  # 3 frames left wait for more, or for the end
    last = windows.next(final=True)
    assert first is not None
    assert second is not None
    assert last is not None
    assert first.context == 0
    assert first.frames[:, 0].tolist() == [0, 1, 2, 3]
    assert second.context == 2
    assert second.frames[:, 0].tolist() == [2, 3, 4, 5, 6, 7]
    assert last.context == 2
    assert last.frames[:, 0].tolist() == [6, 7, 8, 9, 10]
    assert windows.next(final=True) is None


def test_the_first_window_is_short_and_each_next_one_doubles_up_to_the_size() -> None:
    windows = FrameWindows(size=8, context=2, first=2)
    windows.add(frames(0, 20))
    made = [windows.next() for _ in range(4)]
    assert [w.frames.shape[0] - w.context for w in made if w is not None] == [2, 4, 8]
    assert made[3] is None  # 6 frames left wait for 8
    assert made[1] is not None
    assert made[1].frames[:, 0].tolist() == [0, 1, 2, 3, 4, 5]


def test_a_short_stream_is_one_final_window() -> None:
    windows = FrameWindows(size=8, context=4)
    windows.add(frames(0, 3))
    assert windows.next() is None
    last = windows.next(final=True)
    assert last is not None
    assert last.context == 0
    assert last.frames.shape == (3, 2)


def test_the_streamer_skips_the_prompt_and_passes_each_step_on() -> None:
    steps: list[list[int]] = []
    streamer = StepStreamer(lambda tokens: steps.append(tokens.tolist()))
    streamer.put(torch.tensor([[9, 9, 9]]))
    streamer.put(torch.tensor([1, 2]))
    streamer.put(torch.tensor([3, 4]))
    streamer.end()
    assert steps == [[1, 2], [3, 4]]


async def test_frames_put_from_a_thread_by_many_sinks_reach_each_its_own_queue_in_order() -> None:
    loop = asyncio.get_running_loop()
    queues: list[asyncio.Queue[torch.Tensor]] = [asyncio.Queue() for _ in range(4)]
    sinks = [FrameSink(loop, queue) for queue in queues]

    def batched_steps() -> None:  # as the batch thread puts every member's frames per step
        for step in range(10):
            for member, sink in enumerate(sinks):
                sink.put(frames(100 * member + step, 1))

    await loop.run_in_executor(None, batched_steps)
    for member, queue in enumerate(queues):
        got = [int((await queue.get())[0, 0]) for _ in range(10)]
        assert got == [100 * member + step for step in range(10)]


async def test_frames_delivered_together_reach_every_queue_in_the_same_pass_of_the_loop() -> None:
    loop = asyncio.get_running_loop()
    queues: list[asyncio.Queue[torch.Tensor]] = [asyncio.Queue() for _ in range(8)]
    sinks = [FrameSink(loop, queue) for queue in queues]
    held = threading.Event()
    let_go = threading.Event()

    def one_step() -> None:  # the batch thread's step: every member's frames, then the end
        with delivered_together():
            for member, sink in enumerate(sinks):
                sink.put(frames(member, 1))
                if member == 0:
                    held.set()
                    assert let_go.wait(30)

    step = loop.run_in_executor(None, one_step)
    assert await loop.run_in_executor(None, held.wait, 30)
    await asyncio.sleep(0.05)  # passes of the loop while the first frames are held
    assert all(queue.empty() for queue in queues)
    let_go.set()
    await queues[0].get()
    # The first stream's frames came with everyone's: the others find theirs waiting.
    assert [queue.qsize() for queue in queues[1:]] == [1] * 7
    await step
