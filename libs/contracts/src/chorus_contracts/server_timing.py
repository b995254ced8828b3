"""Server-Timing (W3C) on streamed speech: how long a response's first audio took to make.

A provider says how long its engine took, from taking the request to its first audio; the
router passes that on beside its own figure. Browsers show both in their developer tools,
and a benchmark can take the engine's time out of a first byte measured through the router.
"""

from __future__ import annotations

SERVER_TIMING_HEADER = "Server-Timing"
FIRST_AUDIO_METRIC = "first-audio"
PROVIDER_METRIC = "provider"


def timing_entry(name: str, seconds: float, description: str | None = None) -> str:
    """One metric of a Server-Timing header, its duration in milliseconds."""
    desc = f';desc="{description}"' if description else ""
    return f"{name}{desc};dur={seconds * 1000:.1f}"


def timing_ms(header: str | None, name: str) -> float | None:
    """The duration in milliseconds that `header` gives metric `name`; None when it gives
    none (no header, no such metric, or a malformed one)."""
    for metric in (header or "").split(","):
        metric_name, *params = (part.strip() for part in metric.split(";"))
        if metric_name != name:
            continue
        for param in params:
            key, _, value = param.partition("=")
            if key.strip() == "dur":
                try:
                    return float(value)
                except ValueError:
                    return None
    return None
