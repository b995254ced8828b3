"""A sentence engine is told where its pieces meet inside a sentence (the short first piece
and the rest), so an engine can speak a piece in the context of its neighbours."""

from __future__ import annotations

from chorus_provider import Join
from chorus_provider.engine import _joins
from chorus_text import split_sentences


def test_pieces_inside_one_sentence_are_told_their_neighbours() -> None:
    text = (
        "The old lighthouse keeper climbed the narrow stairs every evening before the storm "
        "arrived. He lit the lamp."
    )
    pieces = split_sentences(text, first_piece_max_words=10)
    head = "The old lighthouse keeper climbed"
    assert pieces[0] == head
    assert _joins(pieces) == [
        Join(after="the"),
        Join(before=head),
        Join(last=True),
    ]


def test_whole_sentences_have_no_neighbours() -> None:
    assert _joins(["One.", "Two!", "Three"]) == [Join(), Join(), Join(last=True)]
    assert _joins([]) == []
