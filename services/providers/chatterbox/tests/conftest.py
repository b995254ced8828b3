"""A tiny random Chatterbox once per session, and a real provider process serving it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from chorus_provider.testing import ServiceProcess, start_provider

TESTS = Path(__file__).parent


@pytest.fixture(scope="session")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("chatterbox-weights")
    env = {**os.environ, "PYTHONPATH": str(TESTS)}
    subprocess.run(
        [sys.executable, str(TESTS / "checkpoint.py"), str(directory)], env=env, check=True
    )
    return directory


@pytest.fixture(scope="session")
def chatterbox(
    checkpoint: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServiceProcess]:
    env = {
        # The real service on the tiny sizes its checkpoint was made with (tiny_sizes.py).
        "PYTHONPATH": str(TESTS),
        "CHORUS_CHATTERBOX_NAME": "chatterbox",
        "CHORUS_CHATTERBOX_MODEL_PATH": str(checkpoint),
        # A random T3 never says its stop token: the budget ends each sentence.
        "CHORUS_CHATTERBOX_MIN_TOKENS": "10",
        "CHORUS_CHATTERBOX_TOKENS_PER_CHAR": "1",
        "CHORUS_CHATTERBOX_MAX_QUEUE": "4",
    }
    logs = tmp_path_factory.mktemp("chatterbox")
    process = start_provider("chatterbox", logs, env, 300, module="tiny_sizes")
    yield process
    process.stop()
