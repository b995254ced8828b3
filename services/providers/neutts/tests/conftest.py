"""Tiny random NeuTTS weights once per session, and a real provider process serving them."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from checkpoint import hf_cache_env

from chorus_provider.testing import ServiceProcess, start_provider

# The distilled codec: NeuCodec's w2v-bert must stay 1024 wide and 16 deep, which makes
# cloning on a CPU slow; DistillNeuCodec's encoder reads its size from its config.
CODEC = "neuphonic/distill-neucodec"
QUIET = {"HF_HUB_DISABLE_PROGRESS_BARS": "1", "TRANSFORMERS_VERBOSITY": "error"}


@pytest.fixture(scope="session")
def weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("neutts-weights")
    # huggingface_hub reads its cache location once, at import: a process of its own.
    env = {**os.environ, **hf_cache_env(root / "hf"), **QUIET}
    builder = Path(__file__).with_name("checkpoint.py")
    subprocess.run([sys.executable, str(builder), str(root), CODEC], env=env, check=True)
    return root


def provider_env(weights: Path, **overrides: str) -> dict[str, str]:
    return {
        **hf_cache_env(weights / "hf"),
        **QUIET,
        "CHORUS_NEUTTS_MODEL_PATH": str(weights / "backbone"),
        "CHORUS_NEUTTS_CODEC": CODEC,
        "CHORUS_NEUTTS_LANGUAGE": "en-us",
        "CHORUS_NEUTTS_SEED": "7",
        # The package makes at least 50 codes (1 s) a sentence; a random model never stops
        # by itself, so the budget decides the length.
        "CHORUS_NEUTTS_MIN_CODES": "50",
        "CHORUS_NEUTTS_CODES_PER_CHAR": "1",
        "CHORUS_NEUTTS_MAX_QUEUE": "4",
        **overrides,
    }


@pytest.fixture(scope="session")
def neutts(weights: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    logs = tmp_path_factory.mktemp("neutts")
    process = start_provider("neutts", logs, provider_env(weights), 300)
    yield process
    process.stop()
