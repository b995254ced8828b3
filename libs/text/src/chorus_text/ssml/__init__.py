"""SSML input: parsed by a hardened XML parser and compiled to speech segments."""

from __future__ import annotations

from chorus_text.ssml.compiler import Markup, compile_ssml, features_of, join_words
from chorus_text.ssml.document import MAX_DEPTH, MAX_ELEMENTS, MAX_SSML_CHARS

__all__ = [
    "MAX_DEPTH",
    "MAX_ELEMENTS",
    "MAX_SSML_CHARS",
    "Markup",
    "compile_ssml",
    "features_of",
    "join_words",
]
