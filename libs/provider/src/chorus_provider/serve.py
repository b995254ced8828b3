"""The one command every provider service runs: `chorus-<name> [--config FILE]` (each provider
package's console script), `chorus-provider` (images: the one provider installed) or
`python -m chorus_provider <name> [--config FILE]`.

A provider package names its engine in the `chorus.providers` entry-point group
(`piper = "chorus_piper.engine:PiperEngine"`); the engine names its settings class
(`Engine.settings_class`). Nothing else differs between provider services.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, TypeVar

from chorus_contracts.drain import serve_draining
from chorus_provider.app import create_provider_app
from chorus_provider.engine import Engine
from chorus_provider.settings import ProviderSettings
from chorus_telemetry import configure_logging, setup_tracing

ENTRY_POINT_GROUP = "chorus.providers"
COMMAND_PREFIX = "chorus-"
# `chorus-provider`: the command of provider images (one provider each).
GENERIC_COMMAND = "provider"

S = TypeVar("S", bound=ProviderSettings)


def config_path_from_args(description: str, args: Sequence[str] | None = None) -> Path | None:
    """`--config FILE`, else `CHORUS_CONFIG`; None when neither names a file."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--config", type=Path, default=os.environ.get("CHORUS_CONFIG"))
    return parser.parse_args(args).config  # type: ignore[no-any-return]


def serve_provider(
    settings_cls: type[S],
    make_engine: Callable[[S], Engine],
    description: str,
    args: Sequence[str] | None = None,
) -> None:
    """Load settings (a bad value exits naming its key), build the engine, serve HTTP."""
    settings = settings_cls.load(config_path_from_args(description, args))
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


def installed_providers() -> list[str]:
    """The providers installed beside this package, by name."""
    return sorted(e.name for e in entry_points(group=ENTRY_POINT_GROUP))


def installed_engine(name: str) -> Any:
    """The Engine class the installed package declares as provider `name`; exits naming the
    installed providers when none does."""
    found = entry_points(group=ENTRY_POINT_GROUP, name=name)
    if not found:
        installed = ", ".join(installed_providers()) or "none"
        sys.exit(f"chorus: no provider {name!r} is installed (installed: {installed})")
    return found[name].load()


def serve(name: str, args: Sequence[str] | None = None) -> None:
    """Serve provider `name` with its engine and that engine's settings."""
    engine = installed_engine(name)
    serve_provider(engine.settings_class, engine, f"Chorus {name} provider", args)


def main() -> None:
    """The console script of every provider package: the command's name says which provider
    (`chorus-piper` serves piper). `chorus-provider`, the images' entry point, serves the one
    provider installed beside it."""
    name = Path(sys.argv[0]).name.removeprefix(COMMAND_PREFIX)
    if name == GENERIC_COMMAND:
        installed = installed_providers()
        if len(installed) != 1:
            sys.exit(
                f"chorus-provider serves the one provider installed, and here are "
                f"{len(installed)} ({', '.join(installed)}): run chorus-<name> instead"
            )
        (name,) = installed
    serve(name)
