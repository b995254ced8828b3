"""One provider call as the router reads it: the first chunk and the rest, and the typed
error a broken, failed or overlong stream becomes."""

from __future__ import annotations

import time

import pytest

from chorus_contracts import SynthesisRequest, UnknownVoice, UpstreamError, UpstreamTimeout
from chorus_router.speech.upstream import ProviderStream, open_stream
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
