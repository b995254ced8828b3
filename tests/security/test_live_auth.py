"""Live speech sessions with API keys on: the same keys, scopes and rate limits as HTTP
speech, a key as a subprotocol for browsers, and a bound on each key's open sessions."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import AsyncExitStack, suppress
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from support.live_client import Heard, connect, live_url, receive_until, send
from support.processes import ServiceProcess
from support.secure_stack import MODEL, Keys, api_key_env, start_secure_router

pytestmark = pytest.mark.e2e

SESSIONS_PER_KEY = 2
TURNS_PER_MINUTE = 3


@pytest.fixture(scope="module")
def router(registry: Path, security_logs: Path, keys: Keys) -> Iterator[ServiceProcess]:
    env = api_key_env(
        keys.database_url,
        CHORUS_ROUTER_LIVE__MAX_SESSIONS_PER_KEY=str(SESSIONS_PER_KEY),
        CHORUS_ROUTER_SECURITY__RATE_LIMITS__SYNTHESIS_PER_MINUTE=str(TURNS_PER_MINUTE),
    )
    proc = start_secure_router(registry, security_logs, env)
    yield proc
    proc.stop()


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


def test_a_browser_sends_its_key_as_a_subprotocol(router: ServiceProcess, keys: Keys) -> None:
    key = keys.create("carol", "speech")

    async def session() -> tuple[Heard, str | None]:
        heard = Heard()
        offered = ["chorus-live", f"openai-insecure-api-key.{key}"]
        async with connect(live_url(router.url), subprotocols=offered) as ws:
            await receive_until(ws, heard, "session.created")
            return heard, ws.subprotocol

    heard, chosen = asyncio.run(session())
    assert heard.of_type("session.created")
    # The protocol without the key is the one echoed: the key never travels back.
    assert chosen == "chorus-live"


def test_a_key_holds_a_bounded_number_of_sessions(router: ServiceProcess, keys: Keys) -> None:
    dave, erin = keys.create("dave", "speech"), keys.create("erin", "speech")

    async def sessions() -> tuple[Heard, Heard]:
        async with AsyncExitStack() as held:
            for _ in range(SESSIONS_PER_KEY):
                ws = await held.enter_async_context(connect(live_url(router.url, token=dave)))
                await receive_until(ws, Heard(), "session.created")
            over, other = Heard(), Heard()
            async with connect(live_url(router.url, token=dave)) as ws:
                await receive_until(ws, over, None)
            async with connect(live_url(router.url, token=erin)) as ws:
                await receive_until(ws, other, "session.created")
            return over, other

    over, other = asyncio.run(sessions())
    assert over.close_code == 1013
    assert over.close_reason == f"this key has {SESSIONS_PER_KEY} live sessions open"
    assert other.of_type("session.created"), "another key is not held back"


def test_each_turn_counts_against_the_keys_rate_limit(router: ServiceProcess, keys: Keys) -> None:
    key = keys.create("frank", "speech")

    async def turns() -> Heard:
        heard = Heard()
        async with connect(live_url(router.url, token=key)) as ws:
            await receive_until(ws, heard, "session.created")
            await send(ws, "session.update", session={"model": MODEL, "voice": "alloy"})
            await receive_until(ws, heard, "session.updated")
            for _ in range(TURNS_PER_MINUTE):
                await send(ws, "input_text.append", text="Hello there.")
                await send(ws, "input_text.flush")
                await receive_until(ws, heard, "speech.audio.done")
            await send(ws, "input_text.append", text="One turn too many.")
            await send(ws, "input_text.flush")
            await receive_until(ws, heard, "error")
            # Refused a turn, the session goes on.
            await send(ws, "session.update", session={"speed": 1.5})
            await receive_until(ws, heard, "session.updated")
        return heard

    heard = asyncio.run(turns())
    assert len(heard.of_type("speech.audio.done")) == TURNS_PER_MINUTE
    [error] = heard.of_type("error")
    assert error["error"]["code"] == "rate_limit_exceeded"
    assert error["turn_id"] not in {d["turn_id"] for d in heard.of_type("speech.audio.done")}
    # The same limit as HTTP speech: the key's requests for this minute are used up.
    speech = httpx.post(
        f"{router.url}/v1/audio/speech",
        headers={"Authorization": f"Bearer {key}"},
        json={"model": MODEL, "voice": "alloy", "input": "Hi."},
        timeout=30,
    )
    assert speech.status_code == 429


def test_an_elevenlabs_client_sends_its_key_as_xi_api_key(
    router: ServiceProcess, keys: Keys
) -> None:
    url = router.url.replace("http://", "ws://") + "/v1/text-to-speech/alloy/stream-input"
    key = keys.create("gina", "speech")

    async def session(headers: dict[str, str]) -> tuple[list[str], int | None]:
        received: list[str] = []
        async with connect(f"{url}?output_format=pcm_24000", additional_headers=headers) as ws:
            # A refused session may be closed before the messages are all sent.
            with suppress(ConnectionClosed):
                for text in (" ", "Hello.", ""):
                    await ws.send(json.dumps({"text": text}))
                async for message in ws:
                    received.append(str(message))
            return received, ws.close_code

    spoken, code = asyncio.run(session({"xi-api-key": key}))
    assert code == 1000
    assert json.loads(spoken[-1]) == {"isFinal": True}
    assert any(json.loads(m).get("audio") for m in spoken)
    refused, code = asyncio.run(session({}))
    assert (refused, code) == ([], 1008)
