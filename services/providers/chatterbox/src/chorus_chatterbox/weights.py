"""Where Chatterbox's files are: a mounted directory, or a snapshot in the offline cache."""

from __future__ import annotations

from pathlib import Path

from chorus_chatterbox.settings import ChatterboxSettings
from chorus_torch import WeightsNotFound, find_snapshot

ENV_PREFIX = "CHORUS_CHATTERBOX_"


def weights_dir(settings: ChatterboxSettings) -> Path:
    """The directory `from_local` reads; Chatterbox's layout has no config.json to look for."""
    marker = "t3_mtl23ls_v2.safetensors" if settings.multilingual else "t3_cfg.safetensors"
    if settings.model_path is not None:
        directory, key = settings.model_path, f"{ENV_PREFIX}MODEL_PATH"
    else:
        assert settings.model_repo is not None  # the settings insist on one source
        directory = find_snapshot(
            settings, settings.model_repo, settings.model_revision, ENV_PREFIX
        )
        key = f"{ENV_PREFIX}MODEL_REPO"
    if not (directory / marker).is_file():
        raise WeightsNotFound(f"{key}: {directory} holds no {marker} (Chatterbox's layout)")
    return directory
