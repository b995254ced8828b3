"""One provider call as the router reads it: the first chunk and the rest, and the typed
error a broken, failed or overlong stream becomes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from chorus_contracts import (
    SAMPLE_RATE_HEADER,
    ProviderUnreachable,
    SynthesisRequest,
    UnknownVoice,
    UpstreamError,
    UpstreamTimeout,
)
from chorus_router.routing.pool import ProviderPool
from chorus_router.routing.registry import ProviderEntry
from chorus_router.speech.upstream import ProviderStream, open_stream, provider_client
from support.scripted_providers import ANSWER_CHUNKS, BreaksOff, Routed, read_into


async def _open(routed: Routed) -> ProviderStream:
    request = SynthesisRequest(text="Hi.", voice="v", model="m")
    handle = routed.handle("primary")
    lease = handle.replicas.lease()
    assert lease is not None
    return await open_stream(routed.client, handle, lease, request)


async def test_the_chunks_are_the_whole_answer_the_first_one_included(routed: Routed) -> None:
    stream = await _open(routed)
    chunks = [chunk async for chunk in stream.chunks()]
    assert chunks[0] == stream.first_chunk
    assert b"".join(chunks) == routed.engines["primary"].chunk() * ANSWER_CHUNKS
    assert stream.sample_rate == 24_000


async def test_a_provider_error_before_any_audio_is_its_typed_error(routed: Routed) -> None:
    routed.engines["primary"].script = [UnknownVoice("no voice v here")]
    with pytest.raises(UnknownVoice, match="no voice v here"):
        await _open(routed)


async def test_a_stream_past_its_deadline_is_an_upstream_timeout(routed: Routed) -> None:
    stream = await _open(routed)
    stream.deadline = time.monotonic() - 1  # as if the request timeout had run out
    received: list[bytes] = []
    with pytest.raises(UpstreamTimeout, match="exceeded its request timeout"):
        await read_into(received, stream.chunks())
    assert len(received) == 2, "the first chunk, then the one past the deadline"


async def test_a_connection_broken_mid_stream_is_an_upstream_error(routed: Routed) -> None:
    routed.engines["primary"].script = [BreaksOff(chunks=2)]
    stream = await _open(routed)
    received: list[bytes] = []
    with pytest.raises(UpstreamError, match="provider primary broke the connection"):
        await read_into(received, stream.chunks())
    assert b"".join(received) == routed.engines["primary"].chunk() * 2


FIRST = b"\x01\x00" * 2000
_HEAD = (
    "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
    f"{SAMPLE_RATE_HEADER}: 24000\r\nTransfer-Encoding: chunked\r\n\r\n"
).encode()


async def _read_over_real_connections(url: str) -> bytes:
    """What open_stream and the stream's chunks read from a provider at `url`, with the
    client the app makes."""
    async with provider_client(connect_timeout_s=1.0) as client:
        pool = ProviderPool(client, poll_interval_s=60, check_timeout_s=1)
        pool.update([ProviderEntry(name="p", url=url, models=["m"])])
        handle = pool.get("p")
        assert handle is not None
        lease = handle.replicas.lease()
        assert lease is not None
        request = SynthesisRequest(text="Hi.", voice="v")
        stream = await open_stream(client, handle, lease, request)
        assert stream.first_chunk == FIRST
        received: list[bytes] = []
        await read_into(received, stream.chunks())
        return b"".join(received)


@pytest.fixture
async def hanging_up() -> AsyncIterator[Callable[[bool], Awaitable[str]]]:
    """A provider that answers its first chunk, then hangs up: with a reset when asked
    (`abort`), else with a plain close. Gives its URL."""
    servers: list[asyncio.Server] = []

    async def start(abort: bool) -> str:
        async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(_HEAD + f"{len(FIRST):x}\r\n".encode() + FIRST + b"\r\n")
            await writer.drain()
            await asyncio.sleep(0.05)
            if abort:
                writer.transport.abort()
            else:
                writer.close()

        server = await asyncio.start_server(answer, "127.0.0.1", 0)
        servers.append(server)
        return f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"

    yield start
    for server in servers:
        server.close()


@pytest.mark.parametrize("abort", [False, True], ids=["closed", "reset"])
async def test_a_provider_hanging_up_mid_answer_broke_the_connection(
    hanging_up: Callable[[bool], Awaitable[str]], abort: bool
) -> None:
    url = await hanging_up(abort)
    with pytest.raises(UpstreamError, match="provider p broke the connection"):
        await _read_over_real_connections(url)


async def test_a_provider_nobody_listens_for_is_unreachable() -> None:
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    with pytest.raises(ProviderUnreachable, match="provider p is unreachable"):
        await _read_over_real_connections(f"http://127.0.0.1:{port}")
