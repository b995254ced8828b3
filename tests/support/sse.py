"""Reading the router's Server-Sent Events as a client would."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx


def sse_events(url: str, body: dict[str, Any], timeout_s: float = 60) -> list[dict[str, Any]]:
    """Every `data:` event of one streamed request, each with `_at` (seconds since the
    request) added."""
    events = []
    started = time.perf_counter()
    with httpx.stream("POST", url, json={**body, "stream_format": "sse"}, timeout=timeout_s) as r:
        assert r.status_code == 200, r.read()
        assert r.headers["content-type"].startswith("text/event-stream")
        for line in r.iter_lines():
            if line.startswith("data: "):
                event = json.loads(line.removeprefix("data: "))
                event["_at"] = time.perf_counter() - started
                events.append(event)
    return events
