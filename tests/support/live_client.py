"""A live speech session as a voice agent holds one: a plain `websockets` client."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as _connect
from websockets.exceptions import ConnectionClosed


def connect(url: str, **options: Any) -> _connect:
    """A session's connection; the handshake (a key looked up, on a busy test machine) may
    take longer than the library's 10 s default."""
    return _connect(url, **{"open_timeout": 60, **options})


def live_url(router_url: str, token: str | None = None) -> str:
    url = router_url.replace("http://", "ws://", 1) + "/v1/audio/speech/live"
    return f"{url}?token={token}" if token else url


@dataclass
class Heard:
    """What a client received: events in order, and the close code and reason."""

    events: list[dict[str, Any]] = field(default_factory=list)
    close_code: int | None = None
    close_reason: str = ""

    def audio(self, turn_id: str | None = None) -> bytes:
        return b"".join(
            base64.b64decode(e["audio"])
            for e in self.events
            if e["type"] == "speech.audio.delta" and turn_id in (None, e["turn_id"])
        )

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"] == kind]


async def send(ws: ClientConnection, kind: str, **fields: Any) -> None:
    await ws.send(json.dumps({"type": kind, **fields}))


async def receive_until(
    ws: ClientConnection, heard: Heard, kind: str | None, *or_kinds: str
) -> dict[str, Any]:
    """Events into `heard` up to the first of `kind` or `or_kinds` (returned); with None,
    up to the close."""
    try:
        while True:
            event = json.loads(await ws.recv())
            heard.events.append(event)
            if event["type"] == kind or event["type"] in or_kinds:
                return event
    except ConnectionClosed as closed:
        heard.close_code = closed.rcvd.code if closed.rcvd else None
        heard.close_reason = closed.rcvd.reason if closed.rcvd else ""
        if kind is not None:
            raise
        return {}


__all__ = ["Heard", "connect", "live_url", "receive_until", "send"]
