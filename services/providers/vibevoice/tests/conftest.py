"""One tiny random VibeVoice checkpoint per test session, built and saved by the tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from tiny_model import build_tiny_vibevoice


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_vibevoice(tmp_path_factory.mktemp("tiny-vibevoice"))
