"""One tiny random Higgs checkpoint per test session, and a real provider process serving it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from budget import MAX_AUDIO_S, SECONDS_PER_CHAR
from tiny_model import build_tiny_higgs

from chorus_provider.testing import ServiceProcess, start_provider


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(model directory, codec directory)"""
    return build_tiny_higgs(tmp_path_factory.mktemp("tiny-higgs"))


@pytest.fixture(scope="session")
def higgs(
    tiny_checkpoint: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServiceProcess]:
    model, codec = tiny_checkpoint
    env = {
        "CHORUS_HIGGS_MODEL_PATH": str(model),
        "CHORUS_HIGGS_CODEC_PATH": str(codec),
        "CHORUS_HIGGS_SECONDS_PER_CHAR": str(SECONDS_PER_CHAR),
        "CHORUS_HIGGS_MAX_AUDIO_S": str(MAX_AUDIO_S),
        "CHORUS_HIGGS_STREAM_WINDOW_FRAMES": "10",
        "HF_HUB_OFFLINE": "1",
        # Every request samples from a generator of its own with this seed: the same text
        # gives the same audio, alone or in a batch.
        "CHORUS_HIGGS_SEED": "7",
        # Two cores shared with other suites: one torch thread per generation keeps torch's
        # spinning worker threads from starving each other.
        "OMP_NUM_THREADS": "1",
    }
    process = start_provider("higgs", tmp_path_factory.mktemp("higgs"), env, 120)
    yield process
    process.stop()
