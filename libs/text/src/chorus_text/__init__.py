"""Chorus's text front-end: what the router and the providers do to text before speech."""

from chorus_text.normalization import normalize_text
from chorus_text.sentences import (
    ends_clause,
    ends_sentence,
    first_piece,
    speech_pieces,
    split_sentences,
)

__all__ = [
    "ends_clause",
    "ends_sentence",
    "first_piece",
    "normalize_text",
    "speech_pieces",
    "split_sentences",
]
