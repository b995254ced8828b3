"""Requests at once share Dia's decoding steps, and each sounds as it does alone."""

from __future__ import annotations

import base64
import re

from chorus_provider.testing import (
    ServiceProcess,
    reference_wav,
    same_audio,
    synthesize,
    synthesize_together,
)

_JOINED = re.compile(r"joined the batch; (\d+) generating")


def body(text: str, steps: int, **fields: object) -> dict[str, object]:
    return {"text": text, "voice": "S1", "extra": {"max_new_tokens": steps}, **fields}


def test_requests_at_once_share_steps_and_sound_as_they_do_alone(dia: ServiceProcess) -> None:
    cloned = {
        "voice_reference": base64.b64encode(reference_wav(seconds=1.0)).decode("ascii"),
        "voice_reference_text": "[S1] A short sample.",
    }
    # Different prompt lengths (a cloned voice's prompt is long) and different budgets.
    bodies = [
        body("[S1] Hi.", 20),
        body("[S1] A longer line of dialogue. [S2] And an answer.", 40),
        body("[S1] Cloned.", 30, **cloned),
    ]
    alone = [synthesize(dia.url, b) for b in bodies]
    together = synthesize_together(dia.url, bodies)
    assert [same_audio(t, a) for t, a in zip(together, alone, strict=True)] == [True] * 3
    assert max(int(n) for n in _JOINED.findall(dia.log())) > 1, "never one batch"
    # Preparing a request as generate does warns of nothing: no log line per request.
    assert "seem to have been set" not in dia.log()
    # Each stopped at its own budget: N steps make N - 3 whole frames, as upstream
    # generate makes them.
    samples_per_frame = 512
    assert [len(pcm) // 2 // samples_per_frame for pcm in together[:2]] == [17, 37]
