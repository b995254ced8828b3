"""The engine with the real Kokoro-82M int8 model from PyPI (loaded once for the module)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from chorus_contracts import ProviderCannotServe, SynthesisRequest, UnknownVoice
from chorus_kokoro.engine import SAMPLE_RATE, KokoroEngine
from chorus_kokoro.model_files import ModelFileError
from chorus_kokoro.settings import KokoroSettings
from chorus_provider import CancelSignal, Rendering
from chorus_provider.testing.markup import assert_timed_as_written, speak_ssml

SENTENCE = "Hello there."


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KokoroEngine]:
    engine = KokoroEngine(
        KokoroSettings(data_dir=tmp_path_factory.mktemp("kokoro"), threads=2, sentence_pause_s=0)
    )
    asyncio.run(engine.load())
    yield engine
    asyncio.run(engine.close())


def speak(engine: KokoroEngine, **fields: object) -> np.ndarray:
    request = SynthesisRequest.model_validate({"text": SENTENCE, "voice": "jf_alpha", **fields})
    engine.check(request)
    return np.frombuffer(engine.render(SENTENCE, request, CancelSignal()), dtype="<i2")


def test_text_is_split_in_the_language_it_is_spoken(engine: KokoroEngine) -> None:
    """The shipped voices are Japanese, which is not listed: they speak the default."""
    assert engine.text_language(SynthesisRequest(text="Hi.", voice="jf_alpha")) == "en-us"
    french = SynthesisRequest(text="Salut.", voice="jf_alpha", language="f")
    assert engine.text_language(french) == "fr-fr"


def test_capabilities_list_the_shipped_voices_honestly(engine: KokoroEngine) -> None:
    caps = engine.capabilities()
    voices = {voice.id: voice for voice in caps.voices}
    assert set(voices) == {"jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro", "jm_kumo"}
    assert (voices["jm_kumo"].gender, voices["jm_kumo"].language) == ("male", "ja")
    assert caps.sample_rate == SAMPLE_RATE
    assert "en-us" in caps.languages
    assert caps.speed_range == (0.5, 2.0)


def test_a_sentence_becomes_audible_speech_of_a_fitting_length(engine: KokoroEngine) -> None:
    samples = speak(engine)
    assert 0.4 < len(samples) / SAMPLE_RATE < 2.5
    assert np.sqrt(np.mean((samples / 32768.0) ** 2)) > 0.02


def test_speed_and_language_are_checked_before_any_audio(engine: KokoroEngine) -> None:
    fast = speak(engine, speed=2.0)
    assert len(fast) < len(speak(engine)) * 0.8
    for fields, param in [({"speed": 3.0}, "speed"), ({"language": "de"}, "lang_code")]:
        with pytest.raises(ProviderCannotServe) as caught:
            speak(engine, **fields)
        assert caught.value.param == param
    with pytest.raises(UnknownVoice):
        speak(engine, voice="af_heart")
    assert len(speak(engine, language="b")) > 0


async def test_audio_leaves_sentence_by_sentence(engine: KokoroEngine) -> None:
    request = SynthesisRequest(text="One sentence. And another one.", voice="jm_kumo")
    chunks = [chunk async for chunk in engine.synthesize(request, CancelSignal())]
    assert len(chunks) == 2


def test_missing_user_model_files_name_the_setting(tmp_path: Path) -> None:
    engine = KokoroEngine(KokoroSettings(model_path=tmp_path / "nope.onnx"))
    with pytest.raises(ModelFileError, match="CHORUS_KOKORO_MODEL_PATH"):
        asyncio.run(engine.load())


def test_words_are_timed_from_the_models_own_durations(engine: KokoroEngine) -> None:
    assert engine.capabilities().timestamps == "word"
    piece = "Well, forty-two people came at three o'clock today."
    request = SynthesisRequest(text=piece, voice="jf_alpha", timestamps=True)
    made = engine.render(piece, request, CancelSignal())
    assert isinstance(made, Rendering)
    seconds = len(made.pcm) / 2 / SAMPLE_RATE
    assert [w.word for w in made.words] == [
        "Well",
        "forty-two",
        "people",
        "came",
        "at",
        "three",
        "o'clock",
        "today",
    ]
    starts = [w.start_time for w in made.words]
    assert starts == sorted(starts)
    assert all(0 <= w.start_time < w.end_time <= seconds for w in made.words)
    # Words follow the speech, not an even spread: "forty-two" outlasts "at".
    length = {w.word: w.end_time - w.start_time for w in made.words}
    assert length["forty-two"] > length["at"]


async def test_ipa_phonemes_are_spoken_as_written(engine: KokoroEngine) -> None:
    """A <phoneme> is said as its IPA, whatever its words: "tomato" written, "potato" heard."""
    assert "phoneme" in engine.capabilities().markup

    async def said(ssml: str) -> bytes:
        return await speak_ssml(engine, ssml, "jf_alpha")

    potato_ipa = engine._require().kokoro.tokenizer.phonemize("potato", "en-us")
    heard = await said(f'<speak><phoneme alphabet="ipa" ph="{potato_ipa}">tomato</phoneme></speak>')
    assert heard == await said("<speak>potato</speak>")
    assert heard != await said("<speak>tomato</speak>")


async def test_substitutions_are_timed_as_written_and_marks_where_they_fall(
    engine: KokoroEngine,
) -> None:
    await assert_timed_as_written(engine, "jf_alpha")
