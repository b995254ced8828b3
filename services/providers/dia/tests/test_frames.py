"""Frames released step by step are exactly the ones Dia's processor cuts out afterwards."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from tiny_dia import CODEBOOKS, DELAY_PATTERN, SAMPLE_RATE
from transformers import (
    DacModel,
    DiaFeatureExtractor,
    DiaForConditionalGeneration,
    DiaProcessor,
    DiaTokenizer,
)

from chorus_dia.frames import StaggeredFrames
from chorus_torch import StepStreamer


@pytest.mark.parametrize("prompt_seconds", [0.0, 0.3])
def test_streamed_frames_match_the_processors_own_undelay(
    tiny_model: Path, prompt_seconds: float
) -> None:
    model = DiaForConditionalGeneration.from_pretrained(tiny_model).eval()
    processor = DiaProcessor(
        DiaFeatureExtractor.from_pretrained(tiny_model),
        DiaTokenizer.from_pretrained(tiny_model),
        DacModel.from_pretrained(tiny_model / "codec").eval(),
    )
    ids = {"delay_pattern": DELAY_PATTERN}
    t = np.arange(int(prompt_seconds * SAMPLE_RATE)) / SAMPLE_RATE
    audio = [np.sin(2 * np.pi * 220 * t).astype(np.float32)] if prompt_seconds else None
    inputs = processor(
        text=["[S1] Hi there."], audio=audio, padding=True, return_tensors="pt", audio_kwargs=ids
    )
    prompt_frames = (
        processor.get_audio_prompt_len(inputs["decoder_attention_mask"], audio_kwargs=ids) - 1
    )
    config = model.config.decoder_config
    frames = StaggeredFrames(
        inputs["decoder_input_ids"][0],
        prompt_frames,
        DELAY_PATTERN,
        config.pad_token_id,
        config.eos_token_id,
    )
    released: list[torch.Tensor] = []
    streamer = StepStreamer(lambda tokens: released.append(frames.step(tokens.reshape(-1))))
    with torch.inference_mode():
        out = model.generate(**inputs, max_new_tokens=20, streamer=streamer)

    seq_len = out.shape[1]
    undelay = processor.build_indices(1, seq_len, CODEBOOKS, DELAY_PATTERN, revert=True)
    reverted = processor.apply_audio_delay(out, -1, -1, undelay)[0]
    # Frame f sits at row 1 + f (row 0 is BOS); the last max(delay) rows are incomplete, and
    # at the length limit Dia ends on an EOS frame, which is no audio.
    expected = reverted[1 + prompt_frames : seq_len - max(DELAY_PATTERN)]
    assert int(expected[-1, 0]) == config.eos_token_id
    assert torch.equal(torch.cat(released), expected[:-1])
    assert frames.ended
