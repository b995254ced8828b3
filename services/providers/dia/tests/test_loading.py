"""The torch engine's loading, through Dia's real engine and its tiny model, in-process."""

from __future__ import annotations

from pathlib import Path

import torch

from chorus_dia.engine import DiaEngine
from chorus_dia.settings import DiaSettings


async def test_cpu_threads_sets_torchs_intra_op_threads_at_load(tiny_model: Path) -> None:
    before = torch.get_num_threads()
    threads = 1 if before > 1 else 2
    engine = DiaEngine(DiaSettings.load(model_path=tiny_model, device="cpu", cpu_threads=threads))
    try:
        await engine.load()
        assert torch.get_num_threads() == threads
    finally:
        await engine.close()
        torch.set_num_threads(before)
