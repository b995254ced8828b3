"""ElevenLabs' `stream-input` WebSocket against the real local stack, driven by ElevenLabs'
own Python SDK (`text_to_speech.convert_realtime`), which only speaks `wss://`: a TLS proxy
stands in front of the router as an ingress would."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import warnings
from collections.abc import Iterator

import httpx
import numpy as np
import pytest
from elevenlabs.client import ElevenLabs
from websockets.exceptions import ConnectionClosedError

from chorus_audio.decode import decode_audio
from support.live_client import connect
from support.stack import Stack, shipped_stack
from support.tls_proxy import TlsProxy

pytestmark = pytest.mark.e2e

ANSWER = "Sure, I can help with that. The train leaves at nine, and the trip takes two hours."


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with shipped_stack(("espeak", "piper"), tmp_path_factory.mktemp("stream-input")) as stack:
        yield stack


@pytest.fixture(scope="module")
def elevenlabs(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ElevenLabs]:
    with (
        TlsProxy(stack.router.port, tmp_path_factory.mktemp("tls")) as proxy,
        pytest.MonkeyPatch.context() as env,
    ):
        env.setenv("SSL_CERT_FILE", str(proxy.ca_file))
        yield ElevenLabs(api_key="unused-with-auth-off", base_url=proxy.url)


def _llm() -> Iterator[str]:
    """An LLM's answer, a few characters at a time."""
    for start in range(0, len(ANSWER), 6):
        yield ANSWER[start : start + 6]


def _http_seconds(stack: Stack) -> float:
    body = {"model": "tts-1", "voice": "alloy", "input": ANSWER, "response_format": "pcm"}
    response = httpx.post(f"{stack.base_url}/audio/speech", json=body, timeout=60)
    assert response.status_code == 200
    return len(response.content) / 2 / 24_000


def _ulaw_to_pcm(data: bytes) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import audioop

    return np.frombuffer(audioop.ulaw2lin(data, 2), dtype="<i2")


def test_the_sdk_speaks_a_token_stream_in_pcm_and_ulaw(
    stack: Stack, elevenlabs: ElevenLabs
) -> None:
    expected_s = _http_seconds(stack)
    pcm = b"".join(
        elevenlabs.text_to_speech.convert_realtime(
            voice_id="alloy", text=_llm(), output_format="pcm_16000"
        )
    )
    # The same voice and text as over HTTP, at 16 kHz; pieces add pauses between them.
    assert len(pcm) / 2 / 16_000 == pytest.approx(expected_s, rel=0.2)
    assert np.abs(np.frombuffer(pcm, dtype="<i2")).max() > 1000, "silence"

    ulaw = b"".join(
        elevenlabs.text_to_speech.convert_realtime(
            voice_id="alloy", text=_llm(), output_format="ulaw_8000"
        )
    )
    samples = _ulaw_to_pcm(ulaw)
    assert len(samples) / 8000 == pytest.approx(expected_s, rel=0.2)
    assert np.abs(samples).max() > 1000


def test_the_sdk_gets_mp3_at_44_1_khz(elevenlabs: ElevenLabs) -> None:
    mp3 = b"".join(
        elevenlabs.text_to_speech.convert_realtime(
            voice_id="alloy", text=iter(["Hello there, ", "how are you?"])
        )
    )
    decoded = decode_audio(mp3)
    assert decoded.sample_rate == 44_100
    assert 0.8 < decoded.duration_s < 4.0


async def _messages(url: str, *sent: dict[str, object]) -> tuple[list[dict[str, object]], int]:
    received: list[dict[str, object]] = []
    async with connect(url) as ws:
        for message in sent:
            await ws.send(json.dumps(message))
        with contextlib.suppress(ConnectionClosedError):
            async for raw in ws:
                received.append(json.loads(raw))
        assert ws.close_code is not None
        return received, ws.close_code


def test_alignment_flush_and_the_final_message(stack: Stack) -> None:
    url = stack.router.url.replace("http://", "ws://")
    query = "model_id=espeak&output_format=pcm_24000&sync_alignment=true"
    received, code = asyncio.run(
        _messages(
            f"{url}/v1/text-to-speech/en-us/stream-input?{query}",
            {"text": " ", "voice_settings": {"speed": 1.0}},
            {"text": "Hello there, "},
            {"text": "my friend.", "flush": True},
            {"text": ""},
        )
    )
    assert code == 1000
    assert received[-1] == {"isFinal": True}
    audio = [m for m in received[:-1] if m.get("audio")]
    assert sum(len(base64.b64decode(str(m["audio"]))) for m in audio) / 2 / 24_000 > 0.8
    chars = [c for m in audio if m["alignment"] for c in m["alignment"]["chars"]]  # type: ignore[index]
    # The words as the provider timed them (without their punctuation).
    assert "".join(chars).split() == ["Hello", "there", "my", "friend"]


def test_an_output_format_chorus_cannot_give_is_refused(stack: Stack) -> None:
    url = stack.router.url.replace("http://", "ws://")
    received, code = asyncio.run(
        _messages(f"{url}/v1/text-to-speech/alloy/stream-input?output_format=opus_48000_64")
    )
    assert code == 1008
    [error] = received
    assert "output_format opus_48000_64" in str(error["message"])
    assert error["error"] == "invalid_request"
