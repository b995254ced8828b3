"""Logging and tracing set up the same way in every Chorus service."""

from chorus_telemetry.logs import JsonFormatter, configure_logging
from chorus_telemetry.tracing import (
    instrument_app,
    instrument_client,
    setup_tracing,
    shutdown_tracing,
    tracing_enabled,
)

__all__ = [
    "JsonFormatter",
    "configure_logging",
    "instrument_app",
    "instrument_client",
    "setup_tracing",
    "shutdown_tracing",
    "tracing_enabled",
]
