"""Settings, placement, weights on disk and the GPU memory check, before any model runs."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from pydantic_settings import SettingsConfigDict
from safetensors.torch import save_file

from chorus_contracts.settings import ConfigurationError
from chorus_torch import (
    InsufficientGpuMemory,
    Placement,
    TorchSettings,
    WeightsNotFound,
    check_gpu_memory,
    choose_placement,
    resolve_weights,
    weight_bytes,
)


def model_dir(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "config.json").write_text("{}")
    save_file({"w": torch.zeros(10, 20), "b": torch.zeros(20)}, root / "model.safetensors")
    return root


def test_a_weight_source_is_required_and_a_local_directory_wins(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="model_path"):
        TorchSettings.load()
    both = TorchSettings.load(model_path=model_dir(tmp_path), model_repo="acme/not-cached")
    assert resolve_weights(both, "CHORUS_TORCH_") == tmp_path


def test_cpu_runs_float32_and_cuda_runs_half_or_is_refused_without_a_gpu(tmp_path: Path) -> None:
    settings = TorchSettings.load(model_path=tmp_path)
    cpu = settings.model_copy(update={"device": "cpu"})
    assert choose_placement(cpu) == Placement(torch.device("cpu"), torch.float32)
    assert choose_placement(cpu.model_copy(update={"dtype": "bfloat16"})).dtype == torch.bfloat16
    cuda = settings.model_copy(update={"device": "cuda"})
    if torch.cuda.is_available():  # make test-cuda
        placement = choose_placement(cuda)
        assert placement.on_gpu
        assert placement.dtype in (torch.bfloat16, torch.float16)
    else:
        with pytest.raises(RuntimeError, match="no CUDA device"):
            choose_placement(cuda)


class _ProviderSettings(TorchSettings):
    model_config = SettingsConfigDict(env_prefix="CHORUS_ACME_", extra="forbid")


def test_one_variable_sets_every_providers_device_unless_the_provider_says_otherwise(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CHORUS_ACME_DEVICE", raising=False)
    monkeypatch.setenv("CHORUS_TORCH_DEVICE", "cuda")
    assert _ProviderSettings.load(model_path=tmp_path).device == "cuda"
    monkeypatch.setenv("CHORUS_ACME_DEVICE", "cpu")
    assert _ProviderSettings.load(model_path=tmp_path).device == "cpu"


def test_weights_in_a_local_directory_need_its_config(tmp_path: Path) -> None:
    settings = TorchSettings.load(model_path=tmp_path)
    with pytest.raises(WeightsNotFound, match="CHORUS_TORCH_MODEL_PATH"):
        resolve_weights(settings, "CHORUS_TORCH_")
    assert (
        resolve_weights(settings.model_copy(update={"model_path": model_dir(tmp_path / "m")}), "X_")
        == tmp_path / "m"
    )


def test_the_hf_cache_is_read_offline(tmp_path: Path) -> None:
    cache = tmp_path / "hub"
    settings = TorchSettings.load(model_repo="acme/tiny", model_revision="main", hf_cache_dir=cache)
    with pytest.raises(WeightsNotFound, match="ALLOW_DOWNLOAD is false"):
        resolve_weights(settings, "CHORUS_TORCH_")
    # The layout huggingface_hub writes: refs name the snapshot of each revision.
    repo = cache / "models--acme--tiny"
    model_dir(repo / "snapshots" / "0123abcd")
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0123abcd")
    assert resolve_weights(settings, "CHORUS_TORCH_") == repo / "snapshots" / "0123abcd"


def test_weight_size_counts_tensors_at_the_load_dtype(tmp_path: Path) -> None:
    root = model_dir(tmp_path)
    assert weight_bytes(root, torch.float32) == 220 * 4
    assert weight_bytes(root, torch.bfloat16) == 220 * 2


def test_a_model_too_big_for_the_free_gpu_memory_is_refused_with_the_figures() -> None:
    gpu = Placement(torch.device("cuda", 0), torch.bfloat16)
    mib = 1024 * 1024

    def small_gpu(_: torch.device) -> tuple[int, int]:
        return 3000 * mib, 8000 * mib

    with pytest.raises(InsufficientGpuMemory, match="3000 MiB free of 8000 MiB"):
        check_gpu_memory(gpu, 2000 * mib, 2048, small_gpu)
    check_gpu_memory(gpu, 500 * mib, 2048, small_gpu)
    check_gpu_memory(Placement(torch.device("cpu"), torch.float32), 10**15, 0, small_gpu)
