"""W3C Pronunciation Lexicon Specification (PLS 1.0) files read into entries.

The file goes through the same hardened parser as SSML (no DTD, no entities, bounded
depth and element count). Each `<lexeme>` gives one entry per `<grapheme>`, said as its
first `<phoneme>` and its first `<alias>`. Only the IPA alphabet maps onto the engines'
phonemes, so a lexicon in another alphabet is refused rather than silently mispronounced.
"""

from __future__ import annotations

from chorus_contracts import InvalidRequest
from chorus_text.lexicon.entries import LexiconEntry
from chorus_text.ssml.document import Element, parse_tree, ssml_error

_ELEMENTS_PER_ENTRY = 4  # <lexeme>, <grapheme>, <phoneme>, <alias>


def parse_pls(data: bytes, max_entries: int, param: str = "file") -> list[LexiconEntry]:
    """The entries of a PLS document; a 400 naming line and column for malformed or hostile
    XML, another root than `<lexicon>`, or an entry that cannot be used."""
    root = parse_tree(
        data,
        "lexicon",
        kind="PLS",
        param=param,
        max_elements=1 + max_entries * _ELEMENTS_PER_ENTRY,
    )
    alphabet = root.attributes.get("alphabet", "ipa").lower()
    if alphabet != "ipa":
        raise _refuse(root, f'alphabet="{alphabet}" is not supported; use "ipa"', param)
    language = root.attributes.get("xml:lang")
    entries: list[LexiconEntry] = []
    for lexeme in _children(root, "lexeme"):
        if lexeme.attributes.get("alphabet", alphabet).lower() != "ipa":
            raise _refuse(lexeme, "uses another alphabet than ipa", param)
        phoneme = next((_text(e) for e in _children(lexeme, "phoneme")), None)
        alias = next((_text(e) for e in _children(lexeme, "alias")), None)
        graphemes = [_text(e) for e in _children(lexeme, "grapheme")]
        if not graphemes:
            raise _refuse(lexeme, "has no <grapheme>", param)
        for grapheme in graphemes:
            try:
                entries.append(LexiconEntry(grapheme, phoneme or None, alias or None, language))
            except ValueError as exc:
                raise _refuse(lexeme, str(exc), param) from None
        if len(entries) > max_entries:
            raise _refuse(lexeme, f"is past the limit of {max_entries} entries", param)
    if not entries:
        raise ssml_error("the lexicon has no <lexeme> entries", 1, 1, "PLS", param)
    return entries


def _children(element: Element, tag: str) -> list[Element]:
    return [c for c in element.children if isinstance(c, Element) and c.tag == tag]


def _text(element: Element) -> str:
    return " ".join("".join(c for c in element.children if isinstance(c, str)).split())


def _refuse(element: Element, problem: str, param: str) -> InvalidRequest:
    return ssml_error(f"<{element.tag}> {problem}", element.line, element.column, "PLS", param)
