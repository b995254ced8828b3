"""Finding a model's weights on disk: a local directory, or the Hugging Face cache offline."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import torch
from huggingface_hub import snapshot_download
from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

from chorus_torch.settings import TorchSettings


class WeightsNotFound(RuntimeError):
    """The configured weights are not where the settings say; the message names the key."""


def resolve_weights(settings: TorchSettings, env_prefix: str) -> Path:
    """The directory holding the model in Hugging Face layout (config.json and weights).

    `model_path` wins over `model_repo` (an image may default the repo and a PVC override it).
    """
    if settings.model_path is not None:
        return _checked_dir(settings.model_path, f"{env_prefix}MODEL_PATH")
    assert settings.model_repo is not None  # the settings insist on one source
    found = find_snapshot(settings, settings.model_repo, settings.model_revision, env_prefix)
    return _checked_dir(found, f"{env_prefix}MODEL_REPO")


def find_snapshot(
    settings: TorchSettings, repo: str, revision: str | None, env_prefix: str
) -> Path:
    """`repo` at `revision` from the Hugging Face cache; fetched only with ALLOW_DOWNLOAD."""
    try:
        found = snapshot_download(
            repo,
            revision=revision,
            cache_dir=settings.hf_cache_dir,
            local_files_only=not settings.allow_download,
        )
    except LocalEntryNotFoundError:
        raise WeightsNotFound(
            f"{repo}@{revision or 'main'} is not in the Hugging Face cache and "
            f"{env_prefix}ALLOW_DOWNLOAD is false; mount the weights "
            f"({env_prefix}MODEL_PATH) or pre-fill the cache ({env_prefix}HF_CACHE_DIR)"
        ) from None
    except HfHubHTTPError as exc:
        raise WeightsNotFound(f"downloading {repo} failed: {exc}") from None
    return Path(found)


def _checked_dir(path: Path, key: str) -> Path:
    if not (path / "config.json").is_file():
        raise WeightsNotFound(f"{key}: {path} holds no config.json (Hugging Face layout)")
    return path


def weight_bytes(model_dir: Path, dtype: torch.dtype) -> int:
    """Bytes the model's tensors take at `dtype`, read from safetensors headers, not tensors.

    Files in other formats count by their size on disk.
    """
    itemsize = torch.empty((), dtype=dtype).element_size()
    total = 0
    for path in model_dir.rglob("*"):
        if path.suffix == ".safetensors":
            total += _safetensors_elements(path) * itemsize
        elif path.suffix in (".bin", ".pt", ".pth"):
            total += path.stat().st_size
    return total


def _safetensors_elements(path: Path) -> int:
    with path.open("rb") as handle:
        (header_len,) = struct.unpack("<Q", handle.read(8))
        header = json.loads(handle.read(header_len))
    elements = 0
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        count = 1
        for dim in entry["shape"]:
            count *= dim
        elements += count
    return elements
