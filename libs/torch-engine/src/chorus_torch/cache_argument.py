"""The keyword a model's forward takes its key/value cache by, in the transformers at hand.

transformers renamed it from `past_key_values` to `cache` after 5.17 (the old name stays,
deprecated, until 5.40). The locks pin a release with the new name, but `make test-cuda`
runs on a GPU machine's own transformers, 5.17 on this workplace's image (2026-11): there a
`cache=` argument is taken in by `**kwargs` and ignored, and the model fills a cache of its
own while ours stays empty.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable

import torch
from transformers import Cache


def cache_argument(model: torch.nn.Module, kv_cache: Cache) -> dict[str, Cache]:
    """`kv_cache` as the keyword argument `model`'s forward takes it by."""
    return {_keyword(type(model).forward): kv_cache}


@functools.cache
def _keyword(forward: Callable[..., object]) -> str:
    # Read once a model class: reading the signature took 22 us, each batched step (1 % of
    # a step of the tiny models on the CPU).
    parameters = inspect.signature(forward).parameters
    return "cache" if "cache" in parameters else "past_key_values"
