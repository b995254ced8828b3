"""Whole codec frames out of Dia's staggered codebooks, step by step as they are generated.

Dia delays codebook c by `delay_pattern[c]` steps, so frame t is complete only once step
t + max(delay) has been generated. The processor's `batch_decode` undoes the delay after
generation; this does the same incrementally, so frames can be decoded while Dia goes on.
"""

from __future__ import annotations

import torch


class StaggeredFrames:
    """Collects Dia's per-step tokens and releases each frame once all its codebooks exist.

    `prefill` is the processor's delayed `decoder_input_ids` for the one sequence (positions
    where it is not `pad_id` are forced, as `generate` forces them); `prompt_frames` frames of
    an audio prompt lead the sequence and are not released. A frame whose first codebook is
    EOS or padding ends the audio.
    """

    def __init__(
        self,
        prefill: torch.Tensor,
        prompt_frames: int,
        delay_pattern: list[int],
        pad_id: int,
        eos_id: int,
    ) -> None:
        self._forced = prefill
        self._delays = delay_pattern
        self._max_delay = max(delay_pattern)
        self._pad_id = pad_id
        self._eos_id = eos_id
        valid = int((prefill[:, 0] != pad_id).sum())
        self._steps: list[torch.Tensor] = list(prefill[:valid])
        self._next = prompt_frames
        self.ended = False

    def step(self, tokens: torch.Tensor) -> torch.Tensor:
        """Take one step's tokens (one per codebook); return the frames now complete."""
        position = len(self._steps)
        if position < self._forced.shape[0]:
            forced = self._forced[position]
            tokens = torch.where(forced != self._pad_id, forced, tokens)
        self._steps.append(tokens)
        ready: list[torch.Tensor] = []
        # Position 0 is BOS: frame f's codebook c sits at position 1 + f + delay[c].
        while not self.ended and 1 + self._next + self._max_delay <= position:
            frame = torch.stack(
                [self._steps[1 + self._next + d][c] for c, d in enumerate(self._delays)]
            )
            if int(frame[0]) in (self._eos_id, self._pad_id):
                self.ended = True
                break
            ready.append(frame)
            self._next += 1
        if not ready:
            return torch.empty((0, len(self._delays)), dtype=torch.long)
        return torch.stack(ready)
