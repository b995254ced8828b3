"""chorus-openai in front of a batching runtime (the vLLM-Omni fake on a Qwen3-TTS Base
checkpoint): the task type and the reference sample go up as the runtime's fields."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from chorus_contracts import InvalidRequest, SynthesisRequest
from chorus_openai.engine import OpenAIEngine
from chorus_openai.settings import OpenAISettings
from chorus_provider import CancelSignal
from fakes.omni_runtime import QWEN3_SPEAKERS
from fakes.process import FakeVendor, start_fake
from support.voice_samples import sample

BASE = "Qwen/Qwen3-TTS-12Hz-1.7B-Base"
# Long enough that the test sees it loading on a busy machine.
LOADING = {"FAKE_OMNI_LOAD_S": "5"}


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeVendor]:
    fake = start_fake("vllm_omni", tmp_path_factory.mktemp("omni"), "", {"FAKE_OMNI_MODEL": BASE})
    yield fake
    fake.stop()


@pytest.fixture
async def engine(runtime: FakeVendor) -> AsyncIterator[OpenAIEngine]:
    settings = OpenAISettings(
        base_url=f"{runtime.url}/v1",
        verify_key=False,
        models=[BASE],
        default_model=BASE,
        task_type="Base",
        voice_cloning=True,
        extra_body={"stream": True},
    )
    engine = OpenAIEngine(settings)
    await engine.load()
    yield engine
    await engine.close()


async def _speak(engine: OpenAIEngine, **fields: object) -> bytes:
    request = SynthesisRequest.model_validate({"text": "Say it like them.", **fields})
    return b"".join([chunk async for chunk in engine.synthesize(request, CancelSignal())])


async def test_a_reference_goes_up_as_ref_audio_and_ref_text_with_the_task(
    engine: OpenAIEngine, runtime: FakeVendor
) -> None:
    wav = sample("wav", seconds=2.0)
    pcm = await _speak(
        engine,
        voice="someone",
        voice_reference=base64.b64encode(wav).decode(),
        voice_reference_text="What the sample says.",
    )
    assert len(pcm) > 2 * 24_000 * 0.3
    sent = runtime.requests()[-1]["json"]
    assert sent["ref_audio"] == f"data:audio/wav;base64,{base64.b64encode(wav).decode()}"
    assert (sent["ref_text"], sent["task_type"], sent["model"]) == (
        "What the sample says.",
        "Base",
        BASE,
    )
    assert "voice" not in sent
    assert engine.capabilities().voice_cloning


async def test_a_reference_that_is_not_a_wav_is_refused_before_any_call(
    engine: OpenAIEngine, runtime: FakeVendor
) -> None:
    before = len(runtime.requests())
    with pytest.raises(InvalidRequest):
        await _speak(engine, voice="someone", voice_reference=base64.b64encode(b"x" * 64).decode())
    assert len(runtime.requests()) == before


async def test_a_front_waits_for_its_runtime_to_load_and_takes_its_speakers(
    tmp_path: Path,
) -> None:
    custom = "Qwen/Qwen3-TTS-12Hz-1.7B-CustomVoice"
    loading = start_fake("vllm_omni", tmp_path, "", {"FAKE_OMNI_MODEL": custom, **LOADING})
    settings = OpenAISettings(
        base_url=f"{loading.url}/v1",
        verify_key=False,
        models=[custom],
        default_model=custom,
        upstream_health_url=f"{loading.url}/health",
    )
    engine = OpenAIEngine(settings)
    try:
        async with httpx.AsyncClient(base_url=loading.url) as client:
            assert (await client.get("/health")).status_code == 503, "still loading"
            await engine.load()
            assert (await client.get("/health")).status_code == 200
        # Asked while the runtime loaded, the list would have failed: OpenAI's voices.
        voices = [voice.id for voice in engine.capabilities().voices]
        assert voices == list(QWEN3_SPEAKERS)
    finally:
        await engine.close()
        loading.stop()
