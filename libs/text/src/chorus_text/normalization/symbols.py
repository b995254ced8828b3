"""Optional plurals and the symbols still left after the other rules."""

from __future__ import annotations

import re

_OPTIONAL_PLURAL = re.compile(r"(?<=[A-Za-z])\(s\)")
_SYMBOLS = {
    "&": " and ",
    "+": " plus ",
    "=": " equals ",
    "@": " at ",
    "#": " hash ",
    "%": " percent ",
    "°": " degrees ",
    "~": " about ",
    "×": " times ",
    "÷": " divided by ",
    "§": " section ",
    "©": " copyright ",
    "®": " registered ",
    "™": " trademark ",
}
_SYMBOL = re.compile("|".join(re.escape(s) for s in _SYMBOLS))
_SPACES = re.compile(r"[ \t]{2,}")
_SPACE_BEFORE_MARK = re.compile(r" +(?=[,.;:!?])")


def spell_optional_plurals(text: str) -> str:
    """ "file(s)" -> "files"."""
    return _OPTIONAL_PLURAL.sub("s", text)


def spell_symbols(text: str) -> str:
    """ "R&D" -> "R and D", "a + b" -> "a plus b"."""
    return _SYMBOL.sub(lambda m: _SYMBOLS[m.group(0)], text)


def tidy_spaces(text: str) -> str:
    """One space where rules left several, none before punctuation; line breaks kept."""
    return _SPACE_BEFORE_MARK.sub("", _SPACES.sub(" ", text)).strip()
