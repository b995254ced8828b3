from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from chorus_contracts import ProviderCannotServe, SynthesisRequest, UnknownVoice
from chorus_piper.engine import PiperEngine, _voice_name
from chorus_piper.settings import PiperSettings
from chorus_provider import CancelSignal, Rendering


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


def test_words_are_timed_by_pipers_phoneme_alignments(engine: PiperEngine) -> None:
    assert engine.capabilities().timestamps == "word"
    piece = "Hello there, this is Chorus speaking at three o'clock."
    made = engine.render(
        piece, SynthesisRequest(text=piece, voice="joe", timestamps=True), CancelSignal()
    )
    assert isinstance(made, Rendering)
    seconds = len(made.pcm) / 2 / 22_050
    assert [w.word for w in made.words] == [w.strip(",.") for w in piece.split()]
    starts = [w.start_time for w in made.words]
    assert starts == sorted(starts)
    assert all(0 <= w.start_time < w.end_time <= seconds + 1e-6 for w in made.words)
    untimed = engine.render(piece, SynthesisRequest(text=piece, voice="joe"), CancelSignal())
    assert isinstance(untimed, bytes)
