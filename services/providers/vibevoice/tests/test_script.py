"""Dialogue scripts as VibeVoice's examples write them."""

from __future__ import annotations

import pytest

from chorus_contracts import InvalidRequest
from chorus_vibevoice.script import Turn, parse_script


def test_labelled_lines_are_turns_and_unlabelled_ones_continue_them() -> None:
    script = parse_script("Speaker 2: Hi there.\nHow are you?\n\nspeaker 4 : Fine.", 4)
    assert script.turns == [Turn(2, "Hi there. How are you?"), Turn(4, "Fine.")]
    # The model numbers speakers from 0 in the order of their numbers.
    assert (script.role(2), script.role(4)) == ("0", "1")


def test_a_plain_text_is_one_speakers() -> None:
    assert parse_script("Just one voice.\nStill me.", 4).turns == [
        Turn(1, "Just one voice. Still me.")
    ]


@pytest.mark.parametrize("text", ["Speaker 1:   \n", "\n\n"])
def test_nothing_to_say_is_refused(text: str) -> None:
    with pytest.raises(InvalidRequest):
        parse_script(text, 4)
