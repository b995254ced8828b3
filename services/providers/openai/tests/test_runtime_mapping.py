"""chorus-openai in front of a batching runtime (the vLLM-Omni fake on a Qwen3-TTS Base
checkpoint): the task type and the reference sample go up as the runtime's fields."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Iterator

import pytest

from chorus_contracts import InvalidRequest, SynthesisRequest
from chorus_openai.engine import OpenAIEngine
from chorus_openai.settings import OpenAISettings
from chorus_provider import CancelSignal
from fakes.process import FakeVendor, start_fake
from support.voice_samples import sample

BASE = "Qwen/Qwen3-TTS-12Hz-1.7B-Base"


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
