"""Logging and tracing set up the same way in every Chorus service."""

from chorus_telemetry.logs import JsonFormatter, configure_logging
from chorus_telemetry.tracing import (
    FASTAPI_TELEMETRY,
    exporting_enabled,
    instrument_app,
    instrument_client,
    setup_tracing,
    shutdown_tracing,
)

__all__ = [
    "FASTAPI_TELEMETRY",
    "JsonFormatter",
    "configure_logging",
    "exporting_enabled",
    "instrument_app",
    "instrument_client",
    "setup_tracing",
    "shutdown_tracing",
]
