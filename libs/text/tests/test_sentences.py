from __future__ import annotations

import pytest

from chorus_contracts import TextChunking
from chorus_text import ends_clause, speech_pieces, split_sentences


def test_splits_at_sentence_ends() -> None:
    assert split_sentences("Hello there. How are you? Fine!  Good.") == [
        "Hello there.",
        "How are you?",
        "Fine!",
        "Good.",
    ]


def test_keeps_abbreviations_initials_and_decimals_together() -> None:
    text = "Dr. Smith met J. R. Tolkien at 3.5 p.m. today. Then they left."
    assert split_sentences(text) == [
        "Dr. Smith met J. R. Tolkien at 3.5 p.m. today.",
        "Then they left.",
    ]


def test_closing_quotes_stay_with_their_sentence() -> None:
    assert split_sentences('He said "stop." She did.') == ['He said "stop."', "She did."]


def test_blank_lines_end_a_sentence_and_whitespace_is_normalised() -> None:
    assert split_sentences("A heading\n\nThe body\n  continues here") == [
        "A heading",
        "The body continues here",
    ]


def test_cjk_full_stops() -> None:
    assert split_sentences("今日は。元気です！") == ["今日は。", "元気です！"]


def test_long_sentences_are_cut_at_clauses_then_spaces() -> None:
    clause = "one two three four five six seven eight nine ten"
    pieces = split_sentences(", ".join([clause] * 10) + ".", max_chars=120)
    assert all(len(p) <= 120 for p in pieces)
    assert " ".join(pieces).replace(" ,", ",") == ", ".join([clause] * 10) + "."
    unbroken = "x" * 250
    assert split_sentences(unbroken, max_chars=100) == ["x" * 100, "x" * 100, "x" * 50]


def test_nothing_to_say() -> None:
    assert split_sentences("   \n ") == []


def test_rejects_tiny_limits() -> None:
    with pytest.raises(ValueError, match="max_chars"):
        split_sentences("Hi.", max_chars=5)


LONG_FIRST = (
    "The committee met on a cold morning in the old hall by the river, and nobody spoke. "
    "Then the chair stood up."
)


def test_first_piece_ends_at_the_first_clause_mark_within_the_word_limit() -> None:
    text = "Well, after a very long night, the committee finally agreed on the plan. It was late."
    assert split_sentences(text, first_piece_max_words=10) == [
        "Well, after a very long night,",
        "the committee finally agreed on the plan.",
        "It was late.",
    ]


def test_first_piece_ends_before_a_conjunction_when_no_mark_comes() -> None:
    text = "We walked down to the harbour because the boats were leaving at noon today."
    assert split_sentences(text, first_piece_max_words=10) == [
        "We walked down to the harbour",
        "because the boats were leaving at noon today.",
    ]


def test_first_piece_is_cut_at_the_word_limit_without_any_boundary() -> None:
    pieces = split_sentences(LONG_FIRST, first_piece_max_words=6)
    assert pieces[0] == "The committee met on a cold"
    assert pieces[1] == "morning in the old hall by the river, and nobody spoke."
    assert pieces[2] == "Then the chair stood up."


@pytest.mark.parametrize(
    ("sentence", "first"),
    [
        # a clause mark after three words or more
        (
            "Every morning at six, the baker opens his shop and fills the shelves.",
            "Every morning at six,",
        ),
        # before a determiner, after five words or more
        (
            "The morning train left the station a few minutes late, and nobody seemed to mind.",
            "The morning train left the station",
        ),
        # before a preposition, though a comma comes later within the limit
        (
            "When we finally arrived at the hotel late at night, the receptionist had gone.",
            "When we finally arrived at the hotel late",
        ),
        # "of the", "in a" stay together: the phrase starts at the next opening word
        (
            "Our team measured the temperature of the lake at several depths that year.",
            "Our team measured the temperature of the lake",
        ),
        # fewer than five words before the first opening word: the next one
        (
            "She opened the letter slowly because she already knew what the doctor would say.",
            "She opened the letter slowly",
        ),
        # at the word limit the head gives back the words that need what follows
        (
            "Scientists believe that the ancient forest once covered most of the valley and hills.",
            "Scientists believe that the ancient forest once covered",
        ),
        # capitalised opening words count too
        (
            "Yesterday my little sister finally read The Hobbit in a single night.",
            "Yesterday my little sister finally read",
        ),
    ],
)
def test_first_piece_ends_at_the_first_clause_or_phrase_boundary(sentence: str, first: str) -> None:
    pieces = split_sentences(sentence, first_piece_max_words=10)
    assert pieces[0] == first
    assert " ".join(pieces) == sentence


# Italian: "lo so" is "I know it"; the English "so" must not open a phrase here.
ITALIAN = "Davvero io proprio non lo so se domani potremo venire alla festa di Marco."


@pytest.mark.parametrize(
    ("language", "first"),
    [
        ("it", "Davvero io proprio non lo so se domani potremo venire"),
        ("i", "Davvero io proprio non lo so se domani potremo venire"),
        ("fr-FR", "Davvero io proprio non lo so se domani potremo venire"),
        (None, "Davvero io proprio non lo"),
        ("en-GB", "Davvero io proprio non lo"),
        ("a", "Davvero io proprio non lo"),
    ],
)
def test_english_phrase_words_apply_to_english_text_only(language: str | None, first: str) -> None:
    assert split_sentences(ITALIAN, first_piece_max_words=10, language=language)[0] == first


def test_other_languages_still_end_the_first_piece_at_a_clause_mark() -> None:
    text = "Le train du matin a quitté la gare, et personne ne s'en est plaint du tout."
    assert split_sentences(text, first_piece_max_words=10, language="fr")[:2] == [
        "Le train du matin a quitté la gare,",
        "et personne ne s'en est plaint du tout.",
    ]


def test_a_short_first_sentence_stays_whole_and_later_pieces_are_sentences() -> None:
    text = "Hello there. " + LONG_FIRST
    assert split_sentences(text, first_piece_max_words=10)[:3] == [
        "Hello there.",
        LONG_FIRST.split(". ")[0] + ".",
        "Then the chair stood up.",
    ]


def test_no_first_piece_limit_keeps_whole_sentences() -> None:
    assert split_sentences(LONG_FIRST) == [
        LONG_FIRST.split(". ")[0] + ".",
        "Then the chair stood up.",
    ]


def test_speech_pieces_follow_the_providers_chunking() -> None:
    chunking = TextChunking(max_chars=300, first_piece_max_words=10)
    assert speech_pieces(LONG_FIRST, chunking) == split_sentences(LONG_FIRST, 300, 10)
    assert speech_pieces(ITALIAN, chunking, "it") == split_sentences(ITALIAN, 300, 10, "it")
    assert speech_pieces("  One   whole text.  ", None) == ["  One   whole text.  "]
    assert speech_pieces("   ", None) == []


def test_a_piece_ends_a_clause_at_a_clause_mark_only() -> None:
    assert ends_clause("After a long and difficult winter,")
    assert not ends_clause("It rained; then")
    assert ends_clause("The storm came —")
    assert not ends_clause("The old lighthouse keeper climbed")
    assert not ends_clause("He lit the lamp.")
