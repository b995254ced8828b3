"""What the providers' tests share: a stepper driven by hand, without the batcher's thread."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from chorus_contracts import SynthesisRequest
from chorus_torch.batching import J, S, Stepper


def frames_together(
    stepper: Stepper[S, J], requests: Sequence[SynthesisRequest], steps: int, seed: int
) -> list[torch.Tensor]:
    """Prefill `requests` in one call, then run `steps` shared steps; each one's frames.

    Every request samples from a generator seeded with `seed`, as a provider with a seed
    runs them, so a request's frames here and alone can be compared.
    """
    with torch.inference_mode():
        joining = [stepper.prepare(r, torch.Generator().manual_seed(seed)) for r in requests]
        made = stepper.prefill(joining)
        members: list[S] = []
        frames: list[list[torch.Tensor]] = []
        for prefilled in made:
            if isinstance(prefilled, Exception):
                raise prefilled
            member, first = prefilled
            stepper.join(member)
            members.append(member)
            frames.append([first])
        for _ in range(steps):
            for member, made_now in stepper.step():
                if isinstance(made_now, Exception):
                    raise made_now
                frames[members.index(member)].append(made_now)
        for member in members:
            stepper.leave(member)
    return [torch.cat(made_by_one) for made_by_one in frames]
