"""What the router sends each provider: normalized text or not, timestamps or a 400."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from chorus_contracts import (
    Capabilities,
    InvalidRequest,
    ProviderCannotServe,
    SpeechRequest,
    TextChunking,
    VoiceInfo,
)
from chorus_router.routing.pool import ProviderPool
from chorus_router.routing.registry import ProviderEntry
from chorus_router.speech.planning import plan
from chorus_router.speech.spoken_text import checked_length, pieces_for, spoken_text


def _caps(name: str, **fields: Any) -> Capabilities:
    defaults: dict[str, Any] = {
        "provider": name,
        "engine": name,
        "models": ["m"],
        "voices": [VoiceInfo(id="v", name="v", language="en-us")],
        "languages": ["en-us"],
        "sample_rate": 24_000,
        "max_text_length": 100,
        "streaming": True,
    }
    return Capabilities(**(defaults | fields))


def _pool(**capabilities: Capabilities) -> ProviderPool:
    pool = ProviderPool(httpx.AsyncClient(), 1.0, 1.0)
    pool.update(
        [
            ProviderEntry(name=name, url=f"http://{name}", models=caps.models)
            for name, caps in capabilities.items()
        ]
    )
    for name, caps in capabilities.items():
        handle = pool.get(name)
        assert handle is not None
        handle.capabilities, handle.ready = caps, True
        handle.voice_ids = frozenset(v.id for v in caps.voices)
    return pool


def _request(**fields: Any) -> SpeechRequest:
    return SpeechRequest.model_validate({"model": "m", "voice": "v", "input": "$5"} | fields)


def test_local_engines_get_normalized_text_and_cloud_vendors_the_text_as_written() -> None:
    request = _request(input="It is $5 at 3:30 pm.")
    assert spoken_text(request, _caps("local"), "v") == "It is five dollars at three thirty p m."
    cloud = _caps("cloud", normalizes_text=True)
    assert spoken_text(request, cloud, "v") == "It is $5 at 3:30 pm."
    off = _request(input="It is $5.", normalization_options={"normalize": False})
    assert spoken_text(off, _caps("local"), "v") == "It is $5."


def test_the_voices_language_picks_the_number_words() -> None:
    caps = _caps(
        "multi",
        voices=[VoiceInfo(id="fr", name="fr", language="fr-fr")],
        languages=["en-us", "fr-fr"],
    )
    assert spoken_text(_request(input="J'ai 42 ans."), caps, "fr") == "J'ai quarante-deux ans."
    asked = _request(input="42", lang_code="de")
    assert spoken_text(asked, caps, "fr") == "zweiundvierzig"


def test_normalization_past_the_limit_names_both_lengths() -> None:
    request = _request(input="$1,000,000.01 " * 6)
    text = spoken_text(request, _caps("local"), "v")
    with pytest.raises(ProviderCannotServe) as refused:
        checked_length(request, text, _caps("local"))
    assert f"input is {len(request.input)} characters, {len(text)} after" in refused.value.message
    assert "at most 100" in refused.value.message


def test_pieces_follow_each_providers_chunking() -> None:
    text = "Well, after a very long night, the committee finally agreed on it. It was late."
    chunked = _caps("local", chunking=TextChunking(max_chars=300, first_piece_max_words=10))
    assert pieces_for(text, chunked, None) == [
        "Well, after a very long night,",
        "the committee finally agreed on it.",
        "It was late.",
    ]
    assert pieces_for(text, _caps("cloud"), None) == [text]


def test_pieces_follow_the_language_the_provider_speaks() -> None:
    """English phrase words ("so") cut English text only; Italian "lo so" stays whole."""
    text = "Davvero io proprio non lo so se domani potremo venire alla festa di Marco."
    chunked = _caps("local", chunking=TextChunking(max_chars=300, first_piece_max_words=10))
    assert (
        pieces_for(text, chunked, "it")[0]
        == "Davvero io proprio non lo so se domani potremo venire"
    )
    assert pieces_for(text, chunked, "en-us")[0] == "Davvero io proprio non lo"


def test_timestamps_go_only_to_providers_that_time_words() -> None:
    pool = _pool(
        plain=_caps("plain", models=["m"]),
        timed=_caps("timed", models=["m", "t"], timestamps="word"),
    )
    names = [c.handle.name for c in plan(pool, _request(timestamps="word")).candidates]
    assert names == ["timed"]
    assert {c.handle.name for c in plan(pool, _request()).candidates} == {"plain", "timed"}


def test_timestamps_from_a_model_without_them_name_the_providers_that_have_them() -> None:
    pool = _pool(
        plain=_caps("plain", models=["m"]),
        timed=_caps("timed", models=["t"], timestamps="word"),
    )
    with pytest.raises(InvalidRequest) as refused:
        plan(pool, _request(timestamps="word"))
    assert refused.value.param == "timestamps"
    assert "Providers that have them: timed (models: t)" in refused.value.message


SSML = (
    '<speak>It costs <say-as interpret-as="currency">$5</say-as> <break time="1s"/>'
    '<prosody pitch="high" rate="slow">at 3:30 pm</prosody>, <voice name="other">said</voice> '
    '<lang xml:lang="fr-FR">oui</lang> <audio src="x.wav">ding</audio></speak>'
)


def _segments(plan_: Any, name: str) -> list[dict[str, Any]]:
    candidate = next(c for c in plan_.candidates if c.provider == name)
    return [s.model_dump(exclude_defaults=True) for s in plan_.segments_for(candidate)]


def test_ssml_is_fitted_to_each_provider_from_one_compiled_form() -> None:
    pool = _pool(
        local=_caps(
            "local",
            voices=[VoiceInfo(id="v", name="v"), VoiceInfo(id="other", name="o")],
            markup=["break", "prosody-rate", "lang", "voice"],
        ),
        cloud=_caps("cloud", normalizes_text=True, markup=["break"], languages=[]),
    )
    speech_plan = plan(pool, _request(input=SSML))
    assert _segments(speech_plan, "local") == [
        {"text": "It costs five dollars", "pause_ms": 1000},
        {"text": "at three thirty p m,", "rate": 0.64},
        {"text": "said", "voice": "other"},
        {"text": "oui ding"},
    ]
    # The cloud vendor reads numbers itself, has no voice "other" and takes any language.
    assert _segments(speech_plan, "cloud") == [
        {"text": "It costs five dollars", "pause_ms": 1000},
        {"text": "at 3:30 pm,", "rate": 0.64},
        {"text": "said"},
        {"text": "oui", "language": "fr-FR"},
        {"text": "ding"},
    ]
    assert speech_plan.text_for(speech_plan.candidates[0]) == (
        "It costs five dollars at three thirty p m, said oui ding"
    )
    assert speech_plan.markup_headers("local") == {
        "X-Chorus-Markup-Dropped": "audio",
        "X-Chorus-Markup-Approximated": "lang, prosody-pitch",
    }
    assert speech_plan.markup_headers("cloud")["X-Chorus-Markup-Approximated"] == (
        "lang, prosody-pitch, prosody-rate, voice"
    )


def test_ssml_is_as_long_as_its_words_and_keyed_by_its_segments() -> None:
    pool = _pool(local=_caps("local", max_text_length=30, markup=["break"]))
    tagged = '<speak><prosody volume="loud">Twenty characters...</prosody></speak>'
    first = plan(pool, _request(input=tagged)).first_choice()
    assert first is not None
    assert first.text == "Twenty characters..."
    assert first.markup == '[{"text":"Twenty characters...","volume_db":6.0}]'
    plain = plan(pool, _request(input="Twenty characters...")).first_choice()
    assert plain is not None
    assert plain.markup is None
    with pytest.raises(InvalidRequest, match="input is 31 characters"):
        plan(pool, _request(input=f"<speak>{'x' * 31}</speak>"))


def test_an_emphasis_the_engine_cannot_stress_is_said_slower_and_louder() -> None:
    pool = _pool(local=_caps("local", markup=["break", "prosody-rate", "prosody-volume"]))
    ssml = '<speak>This is <emphasis level="strong">very</emphasis> important.</speak>'
    speech_plan = plan(pool, _request(input=ssml))
    assert _segments(speech_plan, "local") == [
        {"text": "This is"},
        {"text": "very", "rate": 0.85, "volume_db": 4.0},
        {"text": "important."},
    ]
    assert speech_plan.markup_headers("local") == {"X-Chorus-Markup-Approximated": "emphasis"}


def test_prosody_an_engine_describes_in_words_reaches_it_and_is_reported_approximated() -> None:
    described = ["prosody-rate", "prosody-pitch", "prosody-volume", "emphasis"]
    pool = _pool(cloud=_caps("cloud", normalizes_text=True, instructed_markup=described))
    ssml = '<speak>Say <emphasis>this</emphasis> <prosody pitch="high">up</prosody>.</speak>'
    speech_plan = plan(pool, _request(input=ssml))
    assert _segments(speech_plan, "cloud") == [
        {"text": "Say"},
        {"text": "this", "emphasis": "moderate"},
        {"text": "up.", "pitch": "high"},
    ]
    assert speech_plan.markup_headers("cloud") == {
        "X-Chorus-Markup-Approximated": "emphasis, prosody-pitch"
    }
