"""SSML's `<emphasis>` as espeak-ng speaks it natively: the piece inside espeak-ng's own SSML.

espeak-ng reports word positions in the text it was given, so the piece's words are found
again by moving each position back past the opening tags (`shift`).
"""

from __future__ import annotations

from dataclasses import dataclass

# XML's own characters become spaces, not entities: one character for one keeps every
# word's position, and the router's normalization has already spelled such symbols out.
_NOT_IN_TEXT = str.maketrans("&<>", "   ")


@dataclass(frozen=True)
class EspeakInput:
    """What espeak-ng reads (`text`), the words in it (`piece`), whether it is SSML, and
    where the piece starts in it."""

    text: str
    piece: str
    ssml: bool = False
    shift: int = 0


def espeak_input(piece: str, emphasis: str | None) -> EspeakInput:
    """`piece` as is, or inside `<emphasis level>` when the segment asks for one."""
    if emphasis is None:
        return EspeakInput(piece, piece)
    opening = f'<speak><emphasis level="{emphasis}">'
    body = piece.translate(_NOT_IN_TEXT)
    ssml = f"{opening}{body}</emphasis></speak>"
    return EspeakInput(ssml, body, ssml=True, shift=len(opening))
