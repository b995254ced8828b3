"""Lexicon entries as ElevenLabs pronunciation dictionaries, against the ElevenLabs fake."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from chorus_contracts import InvalidRequest, Pronunciation, Pronunciations, SynthesisRequest
from chorus_elevenlabs.dictionaries import rules_for
from chorus_elevenlabs.engine import ElevenLabsEngine
from chorus_elevenlabs.settings import ElevenLabsSettings
from chorus_provider import CancelSignal
from fakes.process import FakeVendor

RACHEL = "21m00Tcm4TlvDq8ikWAM"
ADD_PATH = "/v1/pronunciation-dictionaries/add-from-rules"


def pronunciations(*entries: Pronunciation) -> Pronunciations:
    version = hashlib.sha256(repr(entries).encode()).hexdigest()
    return Pronunciations(version=version, entries=list(entries))


NGUYEN = Pronunciation(grapheme="Nguyen", phoneme="ŋwiən", alias="win")
KUBERNETES = Pronunciation(grapheme="Kubernetes", phoneme="kuːbərˈnɛtiːz")


async def speak(engine: ElevenLabsEngine, text: str, said: Pronunciations, **more: Any) -> None:
    request = SynthesisRequest(text=text, voice=RACHEL, pronunciations=said, **more)
    assert b"".join([c async for c in engine.synthesize(request, CancelSignal())])


def spoken(fake: FakeVendor) -> list[str]:
    answer: list[str] = httpx.get(f"{fake.url}/_fake/spoken", timeout=5).json()["spoken"]
    return answer


def test_ipa_where_the_model_takes_phonemes_and_the_alias_elsewhere() -> None:
    said = pronunciations(NGUYEN, KUBERNETES)
    assert rules_for(said, phonemes=False) == [
        {"string_to_replace": "Nguyen", "type": "alias", "alias": "win"}
    ]
    assert rules_for(said, phonemes=True) == [
        {"string_to_replace": "Nguyen", "type": "phoneme", "phoneme": "ŋwiən", "alphabet": "ipa"},
        {
            "string_to_replace": "Kubernetes",
            "type": "phoneme",
            "phoneme": "kuːbərˈnɛtiːz",
            "alphabet": "ipa",
        },
    ]


async def test_the_dictionary_is_made_once_and_named_in_each_request(
    fake: FakeVendor, engine: ElevenLabsEngine
) -> None:
    said = pronunciations(NGUYEN)
    await speak(engine, "Ask Nguyen today.", said)
    await speak(engine, "Nguyen again.", said)
    added = [r for r in fake.requests() if r["path"] == ADD_PATH]
    assert len(added) == 1
    assert added[0]["json"]["rules"] == [
        {"string_to_replace": "Nguyen", "type": "alias", "alias": "win"}
    ]
    streams = [r["json"] for r in fake.requests() if r["path"].endswith("/stream")]
    locators = [body["pronunciation_dictionary_locators"] for body in streams]
    assert locators == [locators[0]] * 2
    assert len(locators[0]) == 1
    assert spoken(fake) == ["Ask win today.", "win again."]


async def test_phoneme_rules_go_only_to_models_that_honour_them(
    fake: FakeVendor, engine: ElevenLabsEngine
) -> None:
    said = pronunciations(KUBERNETES)
    await speak(engine, "Kubernetes runs.", said, model="eleven_multilingual_v2")
    await speak(engine, "Kubernetes runs.", said, extra={"model_id": "eleven_flash_v2"})
    assert spoken(fake) == ["Kubernetes runs.", "[[kuːbərˈnɛtiːz]] runs."]
    assert [r["path"] for r in fake.requests()].count(ADD_PATH) == 1


async def test_a_dictionary_the_account_lost_is_made_again(
    fake: FakeVendor, engine: ElevenLabsEngine
) -> None:
    said = pronunciations(NGUYEN)
    await speak(engine, "Nguyen.", said)
    fake.reset()
    await speak(engine, "Nguyen.", said)
    assert spoken(fake) == ["win."]


async def test_rules_the_vendor_refuses_are_the_lexicons_error(
    settings_for: Callable[..., ElevenLabsSettings],
) -> None:
    engine = ElevenLabsEngine(settings_for(list_voices=False, voices=[{"id": RACHEL, "name": "R"}]))
    bad = pronunciations(Pronunciation(grapheme="Tag", alias="<b>tag</b>"))
    with pytest.raises(InvalidRequest) as refused:
        await speak(engine, "Tag.", bad)
    assert refused.value.param == "lexicons"
    assert "refused the lexicon entries" in refused.value.message
    await engine.close()
