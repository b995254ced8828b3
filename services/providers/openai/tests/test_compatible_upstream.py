"""The engine in front of a self-hosted OpenAI-compatible server (a real process) that makes
whole clips, streams only when asked, knows one model and answers errors FastAPI-style."""

from __future__ import annotations

from typing import Any

import pytest

from chorus_contracts import InvalidRequest, SynthesisRequest
from chorus_openai.engine import OpenAIEngine
from chorus_openai.settings import OpenAISettings
from chorus_provider import CancelSignal
from fakes.compatible_fake import VOICES
from fakes.process import FakeVendor

TWELVE = " ".join(f"This is sentence number {n} of the text." for n in range(1, 13))


async def _engine(fake: FakeVendor, **settings: Any) -> OpenAIEngine:
    values: dict[str, Any] = {
        "name": "selfhosted",
        "base_url": f"{fake.url}/v1",
        "verify_key": False,
        "read_timeout_s": 20.0,
        **settings,
    }
    engine = OpenAIEngine(OpenAISettings(**values))
    await engine.load()
    return engine


async def _audio(engine: OpenAIEngine, text: str = "Hello there.", **fields: Any) -> list[bytes]:
    request = SynthesisRequest(**{"text": text, "voice": "af_heart", "model": "tts-1", **fields})
    try:
        return [chunk async for chunk in engine.synthesize(request, CancelSignal())]
    finally:
        await engine.close()


async def test_the_servers_own_error_reaches_the_client_under_the_providers_name(
    compatible: FakeVendor,
) -> None:
    with pytest.raises(InvalidRequest) as caught:
        await _audio(await _engine(compatible))
    assert caught.value.message == "selfhosted: Unsupported model 'tts-1'. Use 'kokoro'."


async def test_model_map_names_the_upstreams_model(compatible: FakeVendor) -> None:
    audio = await _audio(await _engine(compatible, model_map={"tts-1": "kokoro"}))
    assert sum(map(len, audio)) > 2 * 24_000 * 0.3
    assert compatible.requests()[-1]["json"]["model"] == "kokoro"


async def test_voices_come_from_the_upstream_unless_configured(compatible: FakeVendor) -> None:
    listed = await _engine(compatible)
    assert [v.id for v in listed.capabilities().voices] == list(VOICES)
    configured = await _engine(compatible, voices=["alloy"])
    assert [v.id for v in configured.capabilities().voices] == ["alloy"]
    for engine in (listed, configured):
        await engine.close()


async def test_extra_body_makes_a_buffering_server_stream(compatible: FakeVendor) -> None:
    text = "One sentence here. And a second one. Then a third."
    mapped = {"model_map": {"tts-1": "kokoro"}}
    whole = await _audio(await _engine(compatible, **mapped), text)
    streamed = await _audio(await _engine(compatible, **mapped, extra_body={"stream": True}), text)
    assert compatible.requests()[-1]["json"]["stream"] is True
    assert b"".join(streamed) == b"".join(whole)
    # pcm_chunks cuts what arrives; a whole clip arrives in one go, a stream sentence by sentence.
    assert len(streamed) >= 3 > 1 == len({len(c) > 0 for c in whole})


async def test_sentence_chunking_sends_pieces_and_keeps_their_order(
    compatible: FakeVendor,
) -> None:
    mapped = {"model_map": {"tts-1": "kokoro"}}
    whole = await _audio(await _engine(compatible, **mapped), TWELVE)
    compatible.reset()
    chunked = await _audio(await _engine(compatible, **mapped, chunking="sentence"), TWELVE)
    inputs = [r["json"]["input"] for r in compatible.requests()]
    assert len(inputs) == 12
    assert sorted(inputs) == sorted(
        f"This is sentence number {n} of the text." for n in range(1, 13)
    )
    assert b"".join(chunked) == b"".join(whole), "same audio, in the text's order"


async def test_a_client_that_leaves_cancels_the_pieces_not_yet_made(
    compatible: FakeVendor,
) -> None:
    engine = await _engine(
        compatible, model_map={"tts-1": "kokoro"}, chunking="sentence", chunk_lookahead=2
    )
    request = SynthesisRequest(text=TWELVE, voice="af_heart", model="tts-1")
    chunks = engine.synthesize(request, CancelSignal())
    assert await anext(chunks)
    await chunks.aclose()  # type: ignore[attr-defined]
    await engine.close()
    # Two in flight when the first piece was done, one more started after it: never twelve.
    assert len(compatible.requests()) <= 3
