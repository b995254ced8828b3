"""Higgs' delayed codebooks, re-aligned frame by frame while the model generates them.

Higgs generates its K codebooks with a delay pattern: the frame made at step t carries
codebook k's code for time t - k. The first frame made is all stream-BOS, the last all
stream-EOS. The codec decodes aligned frames, so time j is complete once step j + K - 1 is
made; this does what the processor's `revert_delay_pattern` does, one step at a time.
Frames are a handful of codes, so they are kept as Python lists: a step's bookkeeping for
every member of a batch then costs no tensor operations.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch


class DelayPatternReverter:
    """Feed each generated frame (K codes); get back the aligned frames it completes."""

    def __init__(self, num_codebooks: int, stream_bos: int, stream_eos: int) -> None:
        self._k = num_codebooks
        self._bos = stream_bos
        self._eos = stream_eos
        self._recent: list[Sequence[int]] = []
        self.ended = False
        self.generated = 0  # frames fed in, markers included

    def push(self, frame: Sequence[int]) -> torch.Tensor:
        """A (0 or 1, K) tensor of aligned codes in [0, stream_bos) once `frame` completes one."""
        self.generated += 1
        if self.ended or all(code == self._bos for code in frame):
            return torch.empty((0, self._k), dtype=torch.long)
        if all(code == self._eos for code in frame):
            self.ended = True
            return torch.empty((0, self._k), dtype=torch.long)
        self._recent = [*self._recent[-(self._k - 1) :], frame] if self._k > 1 else [frame]
        if len(self._recent) < self._k:
            return torch.empty((0, self._k), dtype=torch.long)
        aligned = [min(max(self._recent[k][k], 0), self._bos - 1) for k in range(self._k)]
        return torch.tensor([aligned], dtype=torch.long)
