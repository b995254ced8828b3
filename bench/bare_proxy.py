"""The least a speech proxy can do, as a floor for the router's overhead.

It takes the OpenAI body, posts the text to the provider the model names, and streams the
provider's audio back resampled to 24 kHz in 200 ms slices (the router's own resampler and
cadence), passing on the provider's Server-Timing. No middleware, no validation, no
routing, no fallback, no metrics: what it adds to the first byte is what the two loopback
hops and the audio work cost on this machine, and the router's figure above it is its own.

    python -m bench.bare_proxy PORT '{"piper": "http://127.0.0.1:8101", ...}'
"""

from __future__ import annotations

import json
import sys
from typing import Any

import aiohttp
import uvicorn

from chorus_audio import OUTPUT_SAMPLE_RATE, Resampler, slices
from chorus_contracts import (
    FIRST_AUDIO_METRIC,
    PROVIDER_METRIC,
    SAMPLE_RATE_HEADER,
    SERVER_TIMING_HEADER,
    timing_entry,
    timing_ms,
)

Message = dict[str, Any]


class BareProxy:
    def __init__(self, providers: dict[str, str]) -> None:
        self._providers = providers
        self._session: aiohttp.ClientSession | None = None

    async def __call__(self, scope: Message, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["path"] == "/healthz":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"ok"})
        else:
            await self._speech(json.loads(await _body(receive)), send)

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._session = aiohttp.ClientSession()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._session is not None:
                    await self._session.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _speech(self, body: Message, send: Any) -> None:
        assert self._session is not None
        url = f"{self._providers[body['model']]}/v1/synthesize"
        synthesis = {"text": body["input"], "voice": body["voice"]}
        async with self._session.post(url, json=synthesis) as upstream:
            rate = int(upstream.headers[SAMPLE_RATE_HEADER])
            # The engine's own figure, passed on as the router names it.
            engine_ms = timing_ms(upstream.headers.get(SERVER_TIMING_HEADER), FIRST_AUDIO_METRIC)
            timing = "" if engine_ms is None else timing_entry(PROVIDER_METRIC, engine_ms / 1000)
            headers = [(b"server-timing", timing.encode())]
            resampler = Resampler(rate, OUTPUT_SAMPLE_RATE)
            started = False
            async for chunk in upstream.content.iter_any():
                if not started:
                    started = True
                    await send({"type": "http.response.start", "status": 200, "headers": headers})
                for piece in slices(chunk, rate):
                    audio = resampler.process(piece)
                    await send({"type": "http.response.body", "body": audio, "more_body": True})
            tail = resampler.flush()
        await send({"type": "http.response.body", "body": tail, "more_body": False})


async def _body(receive: Any) -> bytes:
    body = b""
    while True:
        message = await receive()
        body += bytes(message.get("body", b""))
        if not message.get("more_body"):
            return body


def main() -> None:
    port, providers = int(sys.argv[1]), json.loads(sys.argv[2])
    uvicorn.run(BareProxy(providers), host="127.0.0.1", port=port, access_log=False)


if __name__ == "__main__":
    main()
