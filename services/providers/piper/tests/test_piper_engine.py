from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from chorus_contracts import ProviderCannotServe, SynthesisRequest, UnknownVoice
from chorus_piper.engine import PiperEngine, _voice_name
from chorus_piper.settings import PiperSettings
from chorus_provider import CancelSignal


@pytest.fixture(scope="module")
def engine() -> PiperEngine:
    loaded = PiperEngine(PiperSettings())
    asyncio.run(loaded.load())
    return loaded


def test_voice_names_follow_pipers_naming_scheme() -> None:
    assert _voice_name(Path("/m/en_US-joe-medium.onnx")) == "joe"
    assert _voice_name(Path("/m/custom.onnx")) == "custom"


async def test_default_model_is_joe(engine: PiperEngine) -> None:
    caps = engine.capabilities()
    assert [v.id for v in caps.voices] == ["joe"]
    assert caps.languages == ["en-us"]
    assert caps.sample_rate == 22_050


async def test_refuses_other_voices_and_languages(engine: PiperEngine) -> None:
    with pytest.raises(UnknownVoice):
        engine.check(SynthesisRequest(text="Hi.", voice="amy"))
    with pytest.raises(ProviderCannotServe):
        engine.check(SynthesisRequest(text="Hi.", voice="joe", language="fr"))
    engine.check(SynthesisRequest(text="Hi.", voice="joe", language="en"))


async def test_streams_one_chunk_per_sentence(engine: PiperEngine) -> None:
    request = SynthesisRequest(text="First sentence here. And a second one.", voice="joe")
    chunks = [chunk async for chunk in engine.synthesize(request, CancelSignal())]
    assert len(chunks) == 2
    assert all(len(c) > 2 * 22_050 * 0.5 for c in chunks)


async def test_missing_model_file_fails_load_with_its_path(tmp_path: Path) -> None:
    settings = PiperSettings(model_path=tmp_path / "nope.onnx")
    with pytest.raises(FileNotFoundError, match=r"nope\.onnx"):
        await PiperEngine(settings).load()
