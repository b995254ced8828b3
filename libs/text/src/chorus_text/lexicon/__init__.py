"""Pronunciation lexicons: entries read from W3C PLS or JSON, applied to speech segments."""

from __future__ import annotations

from chorus_text.lexicon.entries import (
    MAX_ALIAS_CHARS,
    MAX_GRAPHEME_CHARS,
    MAX_PHONEME_CHARS,
    LexiconEntry,
    check_text,
)
from chorus_text.lexicon.pls import parse_pls
from chorus_text.lexicon.pronounce import Lexicon, pronounce

__all__ = [
    "MAX_ALIAS_CHARS",
    "MAX_GRAPHEME_CHARS",
    "MAX_PHONEME_CHARS",
    "Lexicon",
    "LexiconEntry",
    "check_text",
    "parse_pls",
    "pronounce",
]
