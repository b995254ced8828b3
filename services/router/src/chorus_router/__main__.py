from __future__ import annotations

import argparse
import os
from pathlib import Path

from chorus_contracts.drain import serve_draining
from chorus_router.app import create_app
from chorus_router.routing.registry import RegistryError
from chorus_router.settings import RouterSettings
from chorus_telemetry import configure_logging, setup_tracing


def main() -> None:
    parser = argparse.ArgumentParser(description="Chorus OpenAI-compatible speech router")
    parser.add_argument("--config", type=Path, default=os.environ.get("CHORUS_CONFIG"))
    settings = RouterSettings.load(parser.parse_args().config)
    configure_logging("router", settings.log_level)
    try:
        app = create_app(settings, setup_tracing("chorus-router"))
    except RegistryError as exc:
        raise SystemExit(str(exc)) from None
    # SIGTERM: new requests get 503, those in flight finish (see chorus_contracts.drain).
    serve_draining(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        log_level=settings.log_level,
    )


if __name__ == "__main__":
    main()
