"""One tiny random Higgs checkpoint per test session, built and saved by the tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from tiny_model import build_tiny_higgs


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(model directory, codec directory)"""
    return build_tiny_higgs(tmp_path_factory.mktemp("tiny-higgs"))
