"""Live speech sessions with API keys on: the same keys and scopes as HTTP speech."""

from __future__ import annotations

import asyncio

import pytest

from support.live_client import Heard, connect, live_url, receive_until
from support.processes import ServiceProcess
from support.secure_stack import Keys

pytestmark = pytest.mark.e2e


def _open(url: str, headers: dict[str, str] | None = None) -> Heard:
    async def session() -> Heard:
        heard = Heard()
        async with connect(url, additional_headers=headers) as ws:
            await receive_until(ws, heard, None)
        return heard

    return asyncio.run(session())


def _first(url: str, headers: dict[str, str] | None = None) -> Heard:
    async def session() -> Heard:
        heard = Heard()
        async with connect(url, additional_headers=headers) as ws:
            await receive_until(ws, heard, "session.created")
        return heard

    return asyncio.run(session())


def test_no_key_is_closed_with_a_reason(router: ServiceProcess) -> None:
    heard = _open(live_url(router.url))
    assert heard.close_code == 1008
    assert "API key" in heard.close_reason


def test_a_key_in_the_header_or_the_query_opens_a_session(
    router: ServiceProcess, keys: Keys
) -> None:
    key = keys.create("alice", "speech")
    assert _first(live_url(router.url), {"Authorization": f"Bearer {key}"}).of_type(
        "session.created"
    )
    assert _first(live_url(router.url, token=key)).of_type("session.created")


def test_a_key_without_the_speech_scope_is_closed(router: ServiceProcess, keys: Keys) -> None:
    heard = _open(live_url(router.url, token=keys.create("bob", "voices")))
    assert heard.close_code == 1008
    assert "missing scope: speech" in heard.close_reason
