from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

import uvicorn

from chorus_router.app import create_app
from chorus_router.registry import RegistryError
from chorus_router.settings import RouterSettings


def main() -> None:
    parser = argparse.ArgumentParser(description="Chorus OpenAI-compatible speech router")
    parser.add_argument("--config", type=Path, default=os.environ.get("CHORUS_CONFIG"))
    settings = RouterSettings.load(parser.parse_args().config)
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    try:
        app = create_app(settings)
    except RegistryError as exc:
        raise SystemExit(str(exc)) from None
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        timeout_graceful_shutdown=5,
    )


if __name__ == "__main__":
    main()
