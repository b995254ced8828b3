"""Re-aligning codebooks step by step gives what the processor gets from the whole output."""

from __future__ import annotations

from pathlib import Path

import torch
from tiny_model import STREAM_BOS, STREAM_EOS

from chorus_higgs.delay import DelayPatternReverter
from chorus_higgs.loading import load_processor


def test_frames_come_out_aligned_as_soon_as_each_is_complete(
    tiny_checkpoint: tuple[Path, Path],
) -> None:
    processor = load_processor(*tiny_checkpoint)
    codes = torch.randint(0, STREAM_BOS, (1, 4, 12))  # (batch, codebooks, frames)
    delayed = processor.build_delay_pattern(codes)[0].transpose(0, 1)  # (steps, codebooks)
    generated = [torch.full((4,), STREAM_BOS), *delayed, torch.full((4,), STREAM_EOS)]

    reverter = DelayPatternReverter(4, STREAM_BOS, STREAM_EOS)
    per_step = [reverter.push(frame.tolist()) for frame in generated]

    assert torch.equal(torch.cat(per_step), codes[0].transpose(0, 1))
    # The first aligned frame is ready once all four codebooks have reached it.
    assert [len(out) for out in per_step[:6]] == [0, 0, 0, 0, 1, 1]
    assert reverter.ended
