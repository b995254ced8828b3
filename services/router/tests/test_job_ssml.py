"""An SSML document into a job's pieces: whole segments, their markup kept, within bounds."""

from __future__ import annotations

import pytest

from chorus_contracts import InvalidRequest
from chorus_router.jobs.ssml import ssml_pieces

DOCUMENT = (
    "<speak><p><s>The harbour was quiet at dawn.</s><s>Then "
    '<break time="2s"/> the bells rang out over the water.</s></p>'
    '<p>By noon the <say-as interpret-as="cardinal">12</say-as> boats were in.</p></speak>'
)


def test_pieces_are_whole_segments_with_their_pauses_and_spelled_out_words() -> None:
    made = ssml_pieces(DOCUMENT, "alloy", 60)
    assert [p.text for p in made] == [
        "The harbour was quiet at dawn. Then",
        "the bells rang out over the water.",
        "By noon the twelve boats were in.",
    ]
    assert all(p.voice == "alloy" and p.segments for p in made)
    assert [s.pause_ms for s in made[0].segments or ()] == [0, 2000]


def test_a_sentence_longer_than_a_piece_is_cut_keeping_its_style() -> None:
    sentence = ", ".join(["the bells rang out over the grey water"] * 6) + "."
    document = f'<speak><prosody rate="slow">{sentence}</prosody><break time="1s"/></speak>'
    made = ssml_pieces(document, "alloy", 100)
    assert len(made) > 1
    assert all(len(p.text) <= 100 for p in made)
    segments = [s for p in made for s in p.segments or ()]
    assert {s.rate for s in segments} == {segments[0].rate} != {1.0}
    # The pause after the cut sentence comes once, after its last part.
    assert [s.pause_ms for s in segments] == [0] * (len(segments) - 1) + [1000]


@pytest.mark.parametrize(
    ("document", "words"),
    [
        ("<speak><p>Unclosed</speak>", "line 1, column"),
        ('<speak><break time="1s"/></speak>', "no text to speak"),
    ],
)
def test_a_bad_document_is_a_400_naming_the_problem(document: str, words: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        ssml_pieces(document, "alloy", 100)
    assert words in refused.value.message
