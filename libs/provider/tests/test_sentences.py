from __future__ import annotations

import pytest

from chorus_provider import split_sentences


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
