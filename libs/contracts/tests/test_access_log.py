"""The access line: one per HTTP request, once its response has ended."""

from __future__ import annotations

import logging

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from chorus_contracts.access_log import AccessLog


def _lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "chorus.access"]


async def test_the_line_comes_once_the_body_has_gone_and_leaves_the_query_out(
    caplog: pytest.LogCaptureFixture,
) -> None:
    lines_at_start: list[int] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 206, "headers": []})
        lines_at_start.append(len(_lines(caplog)))
        await send({"type": "http.response.body", "body": b"audio"})

    caplog.set_level(logging.INFO, "chorus.access")
    transport = httpx.ASGITransport(app=AccessLog(app))
    async with httpx.AsyncClient(transport=transport, base_url="http://chorus") as client:
        response = await client.get("/files/f_1?expires=9&sig=s3cr3t")
    assert response.status_code == 206
    assert lines_at_start == [0]
    [line] = _lines(caplog)
    assert '"GET /files/f_1 HTTP/1.1" 206' in line.getMessage()
    assert "s3cr3t" not in line.getMessage()
    assert line.__dict__["duration_ms"] >= 0


async def test_a_response_that_never_began_is_logged_without_a_status(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("the app failed")

    caplog.set_level(logging.INFO, "chorus.access")
    transport = httpx.ASGITransport(app=AccessLog(app))
    async with httpx.AsyncClient(transport=transport, base_url="http://chorus") as client:
        with pytest.raises(RuntimeError):
            await client.post("/v1/audio/speech")
    [line] = _lines(caplog)
    assert line.getMessage().endswith('"POST /v1/audio/speech HTTP/1.1" -')
