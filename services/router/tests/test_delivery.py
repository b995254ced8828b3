"""One response's audio: encoded for its format, accounted once however it ends, stored
only when complete, and as SSE events with an error event when the provider fails."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import AsyncGenerator

import pytest

from chorus_audio import AudioFormat, decode_audio
from chorus_contracts import UnknownFile, UpstreamError
from chorus_router.artifacts.capture import Capture, LinkTarget
from chorus_router.artifacts.store import ArtifactStore
from chorus_router.speech.delivery import Delivery
from support.scripted_providers import (
    ANSWER_CHUNKS,
    CHUNK_SAMPLES,
    SAMPLE_RATE,
    BreaksOff,
    Routed,
    read_into,
)

ANSWER_S = ANSWER_CHUNKS * CHUNK_SAMPLES / SAMPLE_RATE
STATUSES = ("200", "aborted", "client_gone")
FILE_ID = "file_" + "d" * 32


async def _delivery(routed: Routed, fmt: str = "pcm", **extra: object) -> Delivery:
    policy = routed.policy()
    return routed.delivery(policy, await policy.open(), fmt, **extra)


def _outcomes(routed: Routed, fmt: str = "pcm") -> dict[str, float]:
    """How many responses `tts_requests` counts under each outcome (primary, `fmt`)."""
    labels = {"model": "m", "provider": "primary", "format": fmt}
    return {status: routed.count("tts_requests", **labels, status=status) for status in STATUSES}


@pytest.mark.parametrize("fmt", ["wav", "mp3", "flac", "opus"])
async def test_the_audio_is_encoded_in_the_asked_format(routed: Routed, fmt: str) -> None:
    delivery = await _delivery(routed, fmt)
    decoded = decode_audio(b"".join([data async for data in delivery.audio()]))
    assert decoded.sample_rate in (SAMPLE_RATE, 48_000)  # opus decodes at 48 kHz
    assert decoded.duration_s == pytest.approx(ANSWER_S, abs=0.08)


async def test_pcm_is_the_providers_samples_as_they_came(routed: Routed) -> None:
    delivery = await _delivery(routed)
    audio = b"".join([data async for data in delivery.audio()])
    assert audio == routed.engines["primary"].chunk() * ANSWER_CHUNKS


async def test_a_complete_response_is_counted_once_as_200(routed: Routed) -> None:
    delivery = await _delivery(routed)
    await read_into([], delivery.audio())
    await delivery.close()  # the request's release, after the last byte
    assert _outcomes(routed) == {"200": 1, "aborted": 0, "client_gone": 0}
    seconds = routed.metrics.registry.get_sample_value(
        "tts_audio_duration_seconds_sum", {"provider": "primary"}
    )
    assert seconds == pytest.approx(ANSWER_S)


async def test_a_broken_response_is_counted_once_as_aborted(routed: Routed) -> None:
    routed.engines["primary"].script = [BreaksOff(chunks=1)]
    delivery = await _delivery(routed)
    with pytest.raises(UpstreamError, match="broke the connection"):
        await read_into([], delivery.audio())
    await delivery.close()
    assert _outcomes(routed) == {"200": 0, "aborted": 1, "client_gone": 0}


async def test_a_client_that_leaves_is_counted_once_as_gone(routed: Routed) -> None:
    delivery = await _delivery(routed)
    audio = delivery.audio()
    assert isinstance(audio, AsyncGenerator)
    await anext(audio)
    await audio.aclose()  # what the server does when the client goes mid-stream
    await delivery.close()
    never_started = await _delivery(routed)
    await never_started.close()
    assert _outcomes(routed) == {"200": 0, "aborted": 0, "client_gone": 2}


def _capture(store: ArtifactStore) -> Capture:
    link = LinkTarget(FILE_ID, "alice", int(time.time()) + 60)
    return Capture(store, AudioFormat.PCM, 1 << 20, link, None)


async def test_only_a_complete_response_is_stored_for_its_link(
    routed: Routed, artifact_store: ArtifactStore
) -> None:
    routed.engines["primary"].script = [BreaksOff(chunks=1)]
    broken = await _delivery(routed, capture=_capture(artifact_store))
    with pytest.raises(UpstreamError, match="broke the connection"):
        await read_into([], broken.audio())
    with pytest.raises(UnknownFile):
        artifact_store.catalog.link(FILE_ID, "alice")
    left = await _delivery(routed, capture=_capture(artifact_store))
    async for _ in left.audio():
        break
    await left.close()
    with pytest.raises(UnknownFile):
        artifact_store.catalog.link(FILE_ID, "alice")
    complete = await _delivery(routed, capture=_capture(artifact_store))
    audio = b"".join([data async for data in complete.audio()])
    stored = artifact_store.catalog.link(FILE_ID, "alice")
    assert (stored.bytes, stored.provider) == (len(audio), "primary")
    assert stored.duration_s == pytest.approx(ANSWER_S)


def _events(body: bytes) -> list[dict[str, object]]:
    frames = body.decode().split("\n\n")
    assert frames[-1] == "", "every event ends with a blank line"
    return [json.loads(frame.removeprefix("data: ")) for frame in frames[:-1]]


def _audio_of(events: list[dict[str, object]]) -> bytes:
    deltas = [e["audio"] for e in events if e["type"] == "speech.audio.delta"]
    return b"".join(base64.b64decode(str(delta)) for delta in deltas)


async def test_sse_carries_the_audio_in_deltas_then_done(routed: Routed) -> None:
    delivery = await _delivery(routed)
    events = _events(b"".join([event async for event in delivery.sse()]))
    assert events[-1] == {"type": "speech.audio.done"}
    assert _audio_of(events) == routed.engines["primary"].chunk() * ANSWER_CHUNKS


async def test_sse_ends_with_an_error_event_when_the_provider_breaks_off(routed: Routed) -> None:
    routed.engines["primary"].script = [BreaksOff(chunks=1)]
    delivery = await _delivery(routed)
    events = _events(b"".join([event async for event in delivery.sse()]))
    error = events[-1]["error"]
    assert isinstance(error, dict)
    assert (events[-1]["type"], error["code"], error["type"]) == (
        "error",
        "upstream_error",
        "server_error",
    )
    assert _audio_of(events) == routed.engines["primary"].chunk(), "the audio before the break"
    assert _outcomes(routed) == {"200": 0, "aborted": 1, "client_gone": 0}
