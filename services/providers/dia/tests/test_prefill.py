"""Requests joining at once are prefilled together, and make the frames they make alone."""

from __future__ import annotations

import base64
from pathlib import Path

import torch

from chorus_contracts import SynthesisRequest
from chorus_dia.engine import DiaEngine
from chorus_dia.settings import DiaSettings
from chorus_provider.testing import reference_wav
from chorus_torch import choose_placement
from chorus_torch.testing import frames_together

STEPS = 12


def test_requests_prefilled_together_make_the_frames_they_make_alone(tiny_model: Path) -> None:
    settings = DiaSettings(model_path=tiny_model, device="cpu")
    engine = DiaEngine(settings)
    with torch.inference_mode():
        stepper = engine.load_model(tiny_model, choose_placement(settings)).batcher.stepper
    cloned = SynthesisRequest(
        text="[S1] Cloned.",
        voice="S1",
        voice_reference=base64.b64encode(reference_wav(seconds=1.0)).decode("ascii"),
        voice_reference_text="[S1] A short sample.",
    )
    # Texts of different lengths share one prefill; the cloned voice's longer decoder
    # prefill runs in a pass of its own.
    requests = [
        SynthesisRequest(text="[S1] Hi.", voice="S1"),
        SynthesisRequest(text="[S1] A much longer line. [S2] And its answer.", voice="S1"),
        cloned,
    ]
    together = frames_together(stepper, requests, STEPS, seed=7)
    alone = [frames_together(stepper, [request], STEPS, seed=7)[0] for request in requests]
    assert [torch.equal(t, a) for t, a in zip(together, alone, strict=True)] == [True] * 3
    assert [len(frames) for frames in together[:2]] == [STEPS + 1 - 2] * 2  # delays 0, 1, 2
