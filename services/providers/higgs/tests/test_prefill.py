"""Requests joining at once are prefilled together, and make the frames they make alone."""

from __future__ import annotations

import base64
from pathlib import Path

import torch

from chorus_contracts import SynthesisRequest
from chorus_higgs.engine import HiggsEngine
from chorus_higgs.settings import HiggsSettings
from chorus_provider.testing import reference_wav
from chorus_torch import choose_placement
from chorus_torch.testing import frames_together

STEPS = 12


def test_requests_prefilled_together_make_the_frames_they_make_alone(
    tiny_checkpoint: tuple[Path, Path],
) -> None:
    model, codec = tiny_checkpoint
    settings = HiggsSettings(model_path=model, codec_path=codec, device="cpu")
    engine = HiggsEngine(settings)
    with torch.inference_mode():
        stepper = engine.load_model(model, choose_placement(settings)).batcher.stepper
    # Texts of different lengths share one left-padded prefill; a voice reference puts
    # audio in its prompt, which runs in a pass of its own.
    requests = [
        SynthesisRequest(text="Hi.", voice="smart"),
        SynthesisRequest(
            text="A much longer sentence, so that its prompt is longer.", voice="smart"
        ),
        SynthesisRequest(
            text="Cloned.",
            voice="smart",
            voice_reference=base64.b64encode(reference_wav(seconds=1.0)).decode("ascii"),
        ),
    ]
    together = frames_together(stepper, requests, STEPS, seed=7)
    alone = [frames_together(stepper, [request], STEPS, seed=7)[0] for request in requests]
    assert [torch.equal(t, a) for t, a in zip(together, alone, strict=True)] == [True] * 3
    assert all(len(frames) > 0 for frames in together)
