"""Stopping `generate` within one decoding step once the request is cancelled."""

from __future__ import annotations

from typing import Any

import torch
from transformers import StoppingCriteria

from chorus_provider.cancel import CancelSignal


class CancelCriteria(StoppingCriteria):
    """Tells `generate` to stop every sequence as soon as the request's signal is set."""

    def __init__(self, cancel: CancelSignal) -> None:
        self._cancel = cancel

    def __call__(
        self, input_ids: torch.LongTensor, scores: torch.FloatTensor | None, **kwargs: Any
    ) -> torch.BoolTensor:
        stop = self._cancel.is_set
        return torch.full((input_ids.shape[0],), stop, dtype=torch.bool, device=input_ids.device)  # type: ignore[return-value]
