"""Refusing to load a model that would not fit in the GPU's free memory."""

from __future__ import annotations

from collections.abc import Callable

import torch

from chorus_torch.device import Placement

_MIB = 1024 * 1024


class InsufficientGpuMemory(RuntimeError):
    """The GPU has less free memory than the weights plus the configured reserve."""


def check_gpu_memory(
    placement: Placement,
    weights: int,
    reserve_mb: int,
    mem_get_info: Callable[[torch.device], tuple[int, int]] = torch.cuda.mem_get_info,
) -> None:
    """Raise before loading when the weights and the reserve cannot fit; CPU always passes."""
    if not placement.on_gpu:
        return
    free, total = mem_get_info(placement.device)
    needed = weights + reserve_mb * _MIB
    if needed > free:
        raise InsufficientGpuMemory(
            f"{placement.device} has {free // _MIB} MiB free of {total // _MIB} MiB; the model "
            f"needs {weights // _MIB} MiB of weights at {placement.dtype} plus a reserve of "
            f"{reserve_mb} MiB (GPU_MEMORY_RESERVE_MB)"
        )
