"""Which device and dtype a model runs on."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from chorus_torch.settings import TorchSettings


class DeviceUnavailable(RuntimeError):
    """The configured device is not there (e.g. DEVICE=cuda on a node without a GPU)."""


_DTYPES = {"bfloat16": torch.bfloat16, "float16": torch.float16, "float32": torch.float32}


@dataclass(frozen=True)
class Placement:
    device: torch.device
    dtype: torch.dtype

    @property
    def on_gpu(self) -> bool:
        return self.device.type == "cuda"


def choose_placement(settings: TorchSettings) -> Placement:
    """CUDA when asked or when present; bf16 (fp16 without bf16 support) on GPU, fp32 on CPU."""
    cuda = torch.cuda.is_available()
    if settings.device == "cuda" and not cuda:
        raise DeviceUnavailable("device is cuda but torch sees no CUDA device")
    device = torch.device(
        "cuda" if settings.device == "cuda" or (settings.device == "auto" and cuda) else "cpu"
    )
    if settings.dtype != "auto":
        return Placement(device, _DTYPES[settings.dtype])
    if device.type == "cpu":
        return Placement(device, torch.float32)
    return Placement(device, torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16)
