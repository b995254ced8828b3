"""One tiny Dia per session, and a real provider process serving it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tiny_dia import save_tiny_dia

from chorus_provider.testing import ServiceProcess, start_provider

PROVIDER_ENV = {
    "CHORUS_DIA_MAX_NEW_TOKENS": "3000",
    "CHORUS_DIA_STREAM_WINDOW_FRAMES": "4",
    "CHORUS_DIA_STREAM_CONTEXT_FRAMES": "2",
    "CHORUS_DIA_MAX_QUEUE": "4",
    "CHORUS_DIA_SEED": "7",
    # Idle unload on, briefly: the suite also reloads the model between requests.
    "CHORUS_DIA_IDLE_UNLOAD_S": "1.5",
}


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_dia(tmp_path_factory.mktemp("tiny-dia"))


@pytest.fixture(scope="session")
def dia(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    env = {**PROVIDER_ENV, "CHORUS_DIA_MODEL_PATH": str(tiny_model)}
    process = start_provider("dia", tmp_path_factory.mktemp("dia"), env, 120)
    yield process
    process.stop()
