"""What each provider is sent when a request applies lexicons, and what its cached
response is keyed by."""

from __future__ import annotations

import httpx

from chorus_contracts import Capabilities, SpeechRequest, VoiceInfo
from chorus_router.lexicons.records import AppliedLexicons
from chorus_router.routing.pool import ProviderPool
from chorus_router.routing.registry import ProviderEntry
from chorus_router.speech.planning import plan
from chorus_text.lexicon import Lexicon, LexiconEntry

TEXT = "Ask Nguyen at the W3C."
ALIAS = LexiconEntry("W3C", alias="World Wide Web Consortium")


def _pool(markup: list[str], dictionary: bool = False) -> ProviderPool:
    caps = Capabilities(
        provider="p",
        engine="p",
        models=["m"],
        voices=[VoiceInfo(id="v", name="v", language="en-us")],
        languages=["en-us"],
        sample_rate=24_000,
        max_text_length=1000,
        streaming=True,
        markup=markup,
        pronunciation_dictionary=dictionary,
    )
    pool = ProviderPool(httpx.AsyncClient(), 1.0, 1.0)
    pool.update([ProviderEntry(name="p", url="http://p", models=["m"])])
    handle = pool.get("p")
    assert handle is not None
    handle.capabilities, handle.ready, handle.voice_ids = caps, True, frozenset({"v"})
    return pool


def _applied(*entries: LexiconEntry, version: str = "lex_1:a") -> AppliedLexicons:
    return AppliedLexicons(Lexicon(entries), (version,))


def _sent(markup: list[str], lexicons: AppliedLexicons | None) -> list[tuple[str, str | None]]:
    request = SpeechRequest(model="m", voice="v", input=TEXT)
    speech_plan = plan(_pool(markup), request, lexicons)
    segments = speech_plan.segments_for(speech_plan.candidates[0]) or []
    return [(s.text, s.phonemes) for s in segments]


def test_an_engine_that_takes_phonemes_gets_the_entrys_ipa_with_the_written_word() -> None:
    lexicons = _applied(LexiconEntry("Nguyen", phoneme="ŋwˈɪn", alias="Win"), ALIAS)
    assert _sent(["phoneme"], lexicons) == [
        ("Ask", None),
        ("Nguyen", "ŋwˈɪn"),
        ("at the World Wide Web Consortium.", None),
    ]


def test_another_engine_gets_the_alias_or_the_written_word_in_one_piece() -> None:
    lexicons = _applied(LexiconEntry("Nguyen", phoneme="ŋwˈɪn", alias="Win"), ALIAS)
    assert _sent([], lexicons) == [("Ask Win at the World Wide Web Consortium.", None)]


def test_text_that_no_entry_matches_is_planned_as_plain_text() -> None:
    request = SpeechRequest(model="m", voice="v", input=TEXT)
    pool = _pool(["phoneme"])
    unmatched = plan(pool, request, _applied(LexiconEntry("Smith", alias="Smyth")))
    assert unmatched.markup is None
    assert unmatched.first_choice() == plan(pool, request).first_choice()


def test_a_changed_entry_or_lexicon_version_changes_the_cache_identity() -> None:
    request = SpeechRequest(model="m", voice="v", input=TEXT)
    pool = _pool(["phoneme"])

    def identity(lexicons: AppliedLexicons) -> str | None:
        first = plan(pool, request, lexicons).first_choice()
        assert first is not None
        return first.markup

    before = identity(_applied(LexiconEntry("Nguyen", phoneme="ŋwˈɪn")))
    assert before != identity(_applied(LexiconEntry("Nguyen", phoneme="nuːjˈɛn")))
    assert before != identity(_applied(LexiconEntry("Nguyen", phoneme="ŋwˈɪn"), version="lex_1:b"))


def test_a_provider_with_its_own_dictionary_gets_the_words_as_written_and_the_entries_used() -> (
    None
):
    nguyen = LexiconEntry("Nguyen", phoneme="ŋwˈɪn", alias="Win")
    lexicons = _applied(nguyen, ALIAS, LexiconEntry("Smith", alias="Smyth"))
    request = SpeechRequest(model="m", voice="v", input=TEXT)
    speech_plan = plan(_pool(["break"], dictionary=True), request, lexicons)
    candidate = speech_plan.candidates[0]
    sent = speech_plan.synthesis(candidate, "r1")
    assert sent.text == TEXT
    assert sent.pronunciations is not None
    assert [(p.grapheme, p.phoneme, p.alias) for p in sent.pronunciations.entries] == [
        ("Nguyen", "ŋwˈɪn", "Win"),
        ("W3C", None, "World Wide Web Consortium"),
    ]
    again = plan(_pool(["break"], dictionary=True), request, lexicons).synthesis(candidate, "r2")
    assert again.pronunciations == sent.pronunciations
    changed = _applied(LexiconEntry("Nguyen", alias="Nwin"), ALIAS)
    other = plan(_pool(["break"], dictionary=True), request, changed)
    assert other.synthesis(other.candidates[0], "r3").pronunciations != sent.pronunciations


def test_a_provider_without_a_dictionary_gets_no_entries() -> None:
    request = SpeechRequest(model="m", voice="v", input=TEXT)
    speech_plan = plan(_pool([]), request, _applied(ALIAS))
    assert speech_plan.synthesis(speech_plan.candidates[0], "r1").pronunciations is None
