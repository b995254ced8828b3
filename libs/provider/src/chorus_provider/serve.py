"""Command-line entry shared by provider services: `--config FILE`, then uvicorn."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from chorus_contracts.drain import serve_draining
from chorus_provider.app import create_provider_app
from chorus_provider.engine import Engine
from chorus_provider.settings import ProviderSettings
from chorus_telemetry import configure_logging, setup_tracing

S = TypeVar("S", bound=ProviderSettings)


def config_path_from_args(description: str) -> Path | None:
    """`--config FILE`, else `CHORUS_CONFIG`; None when neither names a file."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--config", type=Path, default=os.environ.get("CHORUS_CONFIG"))
    return parser.parse_args().config  # type: ignore[no-any-return]


def serve_provider(
    settings_cls: type[S], make_engine: Callable[[S], Engine], description: str
) -> None:
    """Load settings (a bad value exits naming its key), build the engine, serve HTTP."""
    settings = settings_cls.load(config_path_from_args(description))
    configure_logging(settings.name, settings.log_level)
    tracing = setup_tracing(f"chorus-{settings.name}")
    app = create_provider_app(make_engine(settings), settings, tracing)
    serve_draining(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        log_level=settings.log_level,
    )
