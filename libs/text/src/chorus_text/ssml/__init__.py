"""SSML input: parsed by a hardened XML parser and compiled to speech segments."""

from __future__ import annotations

from chorus_text.ssml.compiler import Markup, compile_ssml
from chorus_text.ssml.document import MAX_DEPTH, MAX_ELEMENTS, MAX_SSML_CHARS


def looks_like_ssml(text: str) -> bool:
    """Input that starts with `<speak` is SSML even when the request does not say so."""
    return text.lstrip().startswith("<speak")


__all__ = [
    "MAX_DEPTH",
    "MAX_ELEMENTS",
    "MAX_SSML_CHARS",
    "Markup",
    "compile_ssml",
    "looks_like_ssml",
]
