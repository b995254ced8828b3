"""Higgs' delayed codebooks, re-aligned frame by frame while the model generates them.

Higgs generates its K codebooks with a delay pattern: the frame made at step t carries
codebook k's code for time t - k. The first frame made is all stream-BOS, the last all
stream-EOS. The codec decodes aligned frames, so time j is complete once step j + K - 1 is
made; this does what the processor's `revert_delay_pattern` does, one step at a time.
"""

from __future__ import annotations

import torch


class DelayPatternReverter:
    """Feed each generated frame (K codes); get back the aligned frames it completes."""

    def __init__(self, num_codebooks: int, stream_bos: int, stream_eos: int) -> None:
        self._k = num_codebooks
        self._bos = stream_bos
        self._eos = stream_eos
        self._recent: list[torch.Tensor] = []
        self.ended = False
        self.generated = 0  # frames fed in, markers included

    def push(self, frame: torch.Tensor) -> torch.Tensor:
        """A (0 or 1, K) tensor of aligned codes in [0, stream_bos) once `frame` completes one."""
        frame = frame.reshape(-1)
        self.generated += 1
        if self.ended or bool((frame == self._bos).all()):
            return frame.new_empty((0, self._k))
        if bool((frame == self._eos).all()):
            self.ended = True
            return frame.new_empty((0, self._k))
        self._recent = [*self._recent[-(self._k - 1) :], frame] if self._k > 1 else [frame]
        if len(self._recent) < self._k:
            return frame.new_empty((0, self._k))
        aligned = torch.stack([self._recent[k][k] for k in range(self._k)])
        return aligned.clamp(0, self._bos - 1).unsqueeze(0)
