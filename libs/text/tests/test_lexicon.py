"""The lexicon pass and PLS reading: what an engine is asked to say for a written word."""

from __future__ import annotations

import pytest

from chorus_contracts import InvalidRequest, SpeechSegment
from chorus_text.lexicon import Lexicon, LexiconEntry, parse_pls, pronounce

PLS = """<?xml version="1.0" encoding="UTF-8"?>
<lexicon version="1.0" xmlns="http://www.w3.org/2005/01/pronunciation-lexicon"
         alphabet="ipa" xml:lang="en-US">
  <lexeme>
    <grapheme>Nguyen</grapheme>
    <grapheme>NGUYEN</grapheme>
    <phoneme>ŋwin</phoneme>
  </lexeme>
  <lexeme><grapheme>W3C</grapheme><alias>World Wide Web Consortium</alias></lexeme>
</lexicon>
"""


def _said(
    text: str, *entries: LexiconEntry, language: str | None = "en", phonemes: bool = True
) -> list[tuple[str, str | None]]:
    lexicon = Lexicon(entries)
    segments = pronounce([SpeechSegment(text=text)], lexicon, language, phonemes=phonemes)
    return [(s.text, s.phonemes) for s in segments]


@pytest.mark.parametrize("phonemes", [True, False])
def test_an_alias_is_written_in_place_for_every_engine(phonemes: bool) -> None:
    entry = LexiconEntry("W3C", alias="World Wide Web Consortium")
    assert _said("Ask the W3C, not w3c.", entry, phonemes=phonemes) == [
        ("Ask the World Wide Web Consortium, not w3c.", None)
    ]


def test_a_phoneme_entry_is_a_segment_of_its_own_that_keeps_the_written_word() -> None:
    entry = LexiconEntry("Nguyen", phoneme="ŋwin", alias="Win")
    assert _said("Hello Nguyen, welcome.", entry) == [
        ("Hello", None),
        ("Nguyen", "ŋwin"),
        (", welcome.", None),
    ]


def test_an_engine_without_phonemes_says_the_alias_or_the_written_word() -> None:
    both = LexiconEntry("Nguyen", phoneme="ŋwin", alias="Win")
    assert _said("Hello Nguyen.", both, phonemes=False) == [("Hello Win.", None)]
    only_ipa = LexiconEntry("Nguyen", phoneme="ŋwin")
    assert _said("Hello Nguyen.", only_ipa, phonemes=False) == [("Hello Nguyen.", None)]


def test_whole_words_only_and_the_longest_entry_wins() -> None:
    entries = (LexiconEntry("New", alias="Knew"), LexiconEntry("New York", alias="Noo Yawk"))
    assert _said("New York is not Newton or New.", *entries) == [
        ("Noo Yawk is not Newton or Knew.", None)
    ]


def test_an_entry_in_another_language_is_left_out() -> None:
    entry = LexiconEntry("chat", alias="sha", language="fr-FR")
    assert _said("a chat", entry, language="en-US") == [("a chat", None)]
    assert _said("a chat", entry, language="fr") == [("a sha", None)]


def test_marks_stay_first_and_the_pause_last() -> None:
    segment = SpeechSegment(text="Hi Nguyen there", pause_ms=500, marks=["m"])
    lexicon = Lexicon([LexiconEntry("Nguyen", phoneme="ŋwin")])
    parts = pronounce([segment], lexicon, None, phonemes=True)
    assert [(p.marks, p.pause_ms) for p in parts] == [(["m"], 0), ([], 0), ([], 500)]


def test_a_pls_file_gives_one_entry_per_grapheme() -> None:
    entries = parse_pls(PLS.encode(), max_entries=10)
    assert entries == [
        LexiconEntry("Nguyen", "ŋwin", None, "en-US"),
        LexiconEntry("NGUYEN", "ŋwin", None, "en-US"),
        LexiconEntry("W3C", None, "World Wide Web Consortium", "en-US"),
    ]


@pytest.mark.parametrize(
    ("pls", "says"),
    [
        (
            "<lexicon><lexeme><grapheme>x</lexeme></lexicon>",
            "PLS at line 1, column 31: malformed XML: mismatched tag",
        ),
        ("<speak>hi</speak>", "must have <lexicon> as its root"),
        ('<!DOCTYPE lexicon SYSTEM "file:///etc/passwd"><lexicon/>', "DTD"),
        ('<lexicon alphabet="x-sampa"/>', 'alphabet="x-sampa" is not supported'),
        (
            "<lexicon>\n<lexeme><grapheme>x</grapheme></lexeme></lexicon>",
            "line 2, column 1: <lexeme> ",
        ),
    ],
)
def test_a_bad_pls_file_is_a_400_naming_where(pls: str, says: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_pls(pls.encode(), max_entries=10)
    assert says in caught.value.message
    assert caught.value.param == "file"


def test_a_pls_file_past_the_entry_bound_is_refused() -> None:
    lexemes = "".join(
        f"<lexeme><grapheme>w{i}</grapheme><alias>a</alias></lexeme>" for i in range(5)
    )
    with pytest.raises(InvalidRequest, match=r"limit of 3 entries|more than 13 elements"):
        parse_pls(f"<lexicon>{lexemes}</lexicon>".encode(), max_entries=3)
