from __future__ import annotations

import numpy as np
import pytest

from chorus_contracts import ProviderCannotServe, SynthesisRequest, UnknownVoice, UpstreamError
from chorus_espeak.engine import EspeakEngine, _wav_payload, espeak_pitch
from chorus_espeak.settings import EspeakSettings
from chorus_provider import CancelSignal, Rendering
from chorus_provider.testing.markup import assert_timed_as_written, speak_ssml, speak_ssml_timed
from chorus_provider.testing.silence import inner_silences


@pytest.fixture
async def engine() -> EspeakEngine:
    loaded = EspeakEngine(EspeakSettings())
    await loaded.load()
    return loaded


async def test_voices_are_espeak_languages_without_mbrola(engine: EspeakEngine) -> None:
    caps = engine.capabilities()
    ids = {v.id for v in caps.voices}
    assert {"en-us", "en-gb", "fr-fr", "de"} <= ids
    assert all(v.language == v.id for v in caps.voices)
    assert caps.sample_rate == 22_050
    assert caps.speed_range[0] < 0.5 < 2.0 < caps.speed_range[1]


async def test_unknown_voices_variants_and_languages_are_refused(engine: EspeakEngine) -> None:
    engine.check(SynthesisRequest(text="Hi.", voice="en-us+f3"))
    with pytest.raises(UnknownVoice):
        engine.check(SynthesisRequest(text="Hi.", voice="xx-nowhere"))
    with pytest.raises(UnknownVoice):
        engine.check(SynthesisRequest(text="Hi.", voice="en-us+nobody"))
    with pytest.raises(ProviderCannotServe):
        engine.check(SynthesisRequest(text="Hi.", voice="en-us", language="klingon"))


async def test_a_bare_language_is_spoken_by_espeaks_preferred_voice_for_it(
    engine: EspeakEngine,
) -> None:
    request = SynthesisRequest(text="Bonjour.", voice="en-us+f3", language="fr")
    engine.check(request)
    french = engine.render("Bonjour.", request, CancelSignal())
    for language, same in (("fr-FR", True), (None, False)):
        other = request.model_copy(update={"language": language})
        assert (engine.render("Bonjour.", other, CancelSignal()) == french) is same


async def test_text_is_split_in_the_language_it_is_spoken(engine: EspeakEngine) -> None:
    """English phrase words cut English text only: Italian "lo so" ("I know it") stays."""
    text = "Davvero io proprio non lo so se domani potremo venire alla festa di Marco."
    firsts: dict[str, int] = {}
    for voice, language in (("it", None), ("en-us", "it"), ("en-us+f3", None)):
        request = SynthesisRequest(text=text, voice=voice, language=language)
        lengths: list[int] = []
        engine.on_piece = lengths.append
        assert [chunk async for chunk in engine.synthesize(request, CancelSignal())]
        firsts[f"{voice}/{language}"] = lengths[0]
    assert (
        firsts["it/None"]
        == firsts["en-us/it"]
        == len("Davvero io proprio non lo so se domani potremo venire")
    )
    assert firsts["en-us+f3/None"] == len("Davvero io proprio non lo")


async def test_speed_maps_onto_words_per_minute(engine: EspeakEngine) -> None:
    text = "The quick brown fox jumps over the lazy dog."
    slow = engine.render(
        text, SynthesisRequest(text=text, voice="en-us", speed=0.75), CancelSignal()
    )
    fast = engine.render(
        text, SynthesisRequest(text=text, voice="en-us", speed=2.0), CancelSignal()
    )
    assert len(fast) < len(slow) * 0.6


async def test_text_that_looks_like_an_option_is_spoken(engine: EspeakEngine) -> None:
    pcm = engine.render("--help", SynthesisRequest(text="--help", voice="en-us"), CancelSignal())
    assert len(pcm) > 2 * 22_050 * 0.2


def test_wav_payload_strips_the_header_and_refuses_garbage() -> None:
    header = b"RIFF\xff\xff\xff\x7fWAVEfmt " + bytes(20) + b"data\xff\xff\xff\x7f"
    assert _wav_payload(header + b"\x01\x02\x03") == b"\x01\x02"
    with pytest.raises(UpstreamError):
        _wav_payload(b"not audio")


async def test_words_are_timed_by_espeaks_word_events(engine: EspeakEngine) -> None:
    assert engine.capabilities().timestamps == "word"
    piece = "Hello there, this is Chorus speaking at three o'clock."
    made = engine.render(
        piece, SynthesisRequest(text=piece, voice="en-us+f3", timestamps=True), CancelSignal()
    )
    assert isinstance(made, Rendering)
    seconds = len(made.pcm) / 2 / 22_050
    assert [w.word for w in made.words] == [w.strip(",.") for w in piece.split()]
    starts = [w.start_time for w in made.words]
    assert starts == sorted(starts)
    assert all(0 <= w.start_time < w.end_time <= seconds for w in made.words)
    # The library speaks as the command does (which adds the final pause of ~0.3 s).
    untimed = engine.render(piece, SynthesisRequest(text=piece, voice="en-us+f3"), CancelSignal())
    assert isinstance(untimed, bytes)
    assert 0 <= (len(untimed) - len(made.pcm)) / 2 / 22_050 < 0.5


async def _segmented(engine: EspeakEngine, ssml: str) -> bytes:
    return await speak_ssml(engine, ssml, "en-us")


async def test_a_break_is_exactly_its_silence(engine: EspeakEngine) -> None:
    pcm = await _segmented(engine, 'Before the pause <break time="700ms"/> and after it.')
    assert inner_silences(pcm, 22_050)[0] == pytest.approx(0.7, abs=0.03)


async def test_pitch_and_volume_shape_the_segment(engine: EspeakEngine) -> None:
    assert "prosody-pitch" in engine.capabilities().markup
    plain = await _segmented(engine, "Hello there.")
    high = await _segmented(engine, '<prosody pitch="x-high">Hello there.</prosody>')
    soft = await _segmented(engine, '<prosody volume="-6dB">Hello there.</prosody>')
    assert high != plain
    peak = np.abs(np.frombuffer(plain, dtype="<i2")).max()
    assert np.abs(np.frombuffer(soft, dtype="<i2")).max() == pytest.approx(peak / 2, rel=0.02)


def test_pitch_names_and_percentages_map_onto_espeaks_scale() -> None:
    assert [espeak_pitch(p) for p in (None, "x-low", "high", "+20%", "-50%", "200Hz")] == [
        50, 20, 65, 60, 25, 50,
    ]  # fmt: skip


async def test_substitutions_are_timed_as_written_and_marks_where_they_fall(
    engine: EspeakEngine,
) -> None:
    await assert_timed_as_written(engine, "en-us")


async def test_emphasis_is_espeaks_own_and_keeps_the_word_timings(engine: EspeakEngine) -> None:
    async def very(level: str) -> float:
        spoken = await speak_ssml_timed(
            engine, f'This is <emphasis level="{level}">very good</emphasis> indeed.', "en-us"
        )
        assert [w.word for w in spoken.words] == ["This", "is", "very", "good", "indeed"]
        word = spoken.words[2]
        return word.end_time - word.start_time

    assert "emphasis" in engine.capabilities().markup
    # espeak-ng stresses the words: "very" is said longer than with no emphasis (0.35 s
    # against 0.27 s when measured).
    assert await very("strong") > 1.1 * await very("none")
