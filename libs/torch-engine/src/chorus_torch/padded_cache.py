"""Many sequences' key/value caches as one left-padded batch that rows join and leave.

Each sequence was prefilled alone, so the caches have different lengths. They are padded
on the left to a common length and the padding is masked out of attention, so a row
attends to exactly what it attended to alone; positions stay each row's own.
"""

from __future__ import annotations

from typing import Protocol, cast

import torch
from transformers import DynamicCache
from transformers.cache_utils import DynamicLayer


class PaddedCache:
    """A `DynamicCache` over rows of different lengths, with the attention mask that says so."""

    def __init__(self) -> None:
        self.cache: DynamicCache | None = None
        self.mask = torch.zeros((0, 0), dtype=torch.long)

    @property
    def rows(self) -> int:
        return int(self.mask.shape[0])

    def add(self, cache: DynamicCache, mask: torch.Tensor | None = None) -> None:
        """Append the rows of `cache` below the batch's; `mask` says which positions are
        valid (all of them when not given)."""
        new_rows, new_length = _shape(cache)
        new_mask = (
            torch.ones((new_rows, new_length), dtype=torch.long, device=_device(cache))
            if mask is None
            else mask.long()
        )
        if self.cache is None or self.rows == 0:
            self.cache, self.mask = cache, new_mask
            return
        length = max(self.mask.shape[1], new_length)
        for ours, theirs in zip(_layers(self.cache), _layers(cache), strict=True):
            ours.keys = torch.cat([_left_pad(ours.keys, length), _left_pad(theirs.keys, length)])
            ours.values = torch.cat(
                [_left_pad(ours.values, length), _left_pad(theirs.values, length)]
            )
        self.mask = torch.cat([_left_pad_mask(self.mask, length), _left_pad_mask(new_mask, length)])

    def remove(self, rows: list[int]) -> None:
        """Drop `rows`; columns that are padding in every remaining row go too."""
        assert self.cache is not None
        keep = [row for row in range(self.rows) if row not in set(rows)]
        if not keep:
            self.cache, self.mask = None, torch.zeros((0, 0), dtype=torch.long)
            return
        index = torch.tensor(keep, device=self.mask.device)
        self.mask = self.mask.index_select(0, index)
        first = int(self.mask.any(dim=0).long().argmax())
        self.mask = self.mask[:, first:]
        for layer in _layers(self.cache):
            layer.keys = layer.keys.index_select(0, index)[..., first:, :]
            layer.values = layer.values.index_select(0, index)[..., first:, :]

    def grown(self) -> torch.Tensor:
        """The mask for the next step: every row adds one valid position."""
        ones = torch.ones((self.rows, 1), dtype=self.mask.dtype, device=self.mask.device)
        self.mask = torch.cat([self.mask, ones], dim=1)
        return self.mask


def rows_of(cache: DynamicCache, rows: slice, positions: slice = slice(None)) -> DynamicCache:
    """A cache of `rows` of `cache`, at `positions` only: one sequence's share of a prefill run
    with others, without the padding its row had there."""
    return DynamicCache(
        ddp_cache_data=[
            (layer.keys[rows, ..., positions, :], layer.values[rows, ..., positions, :])
            for layer in _layers(cache)
        ]
    )


class _Layer(Protocol):
    keys: torch.Tensor
    values: torch.Tensor


def _layers(cache: DynamicCache) -> list[_Layer]:
    """The cache's layers, each a filled full-attention layer (a sliding window's or a
    linear attention's state cannot be padded this way)."""
    layers = list(cache.layers)
    for layer in layers:
        if type(layer) is not DynamicLayer or layer.keys is None or layer.values is None:
            raise TypeError(f"cannot batch a {type(layer).__name__} cache layer")
    return cast(list[_Layer], layers)


def _shape(cache: DynamicCache) -> tuple[int, int]:
    keys = _layers(cache)[0].keys
    return int(keys.shape[0]), int(keys.shape[-2])


def _device(cache: DynamicCache) -> torch.device:
    return _layers(cache)[0].keys.device


def _left_pad(states: torch.Tensor, length: int) -> torch.Tensor:
    missing = length - states.shape[-2]
    if missing == 0:
        return states
    pad = states.new_zeros((*states.shape[:-2], missing, states.shape[-1]))
    return torch.cat([pad, states], dim=-2)


def _left_pad_mask(mask: torch.Tensor, length: int) -> torch.Tensor:
    missing = length - mask.shape[1]
    if missing == 0:
        return mask
    return torch.cat([mask.new_zeros((mask.shape[0], missing)), mask], dim=1)
