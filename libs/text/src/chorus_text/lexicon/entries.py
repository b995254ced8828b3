"""One lexicon entry: a written form and how to say it, as IPA phonemes or a respelling."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

MAX_GRAPHEME_CHARS = 100
MAX_PHONEME_CHARS = 200
MAX_ALIAS_CHARS = 200
MAX_LANGUAGE_CHARS = 32


@dataclass(frozen=True)
class LexiconEntry:
    """`grapheme` (matched as whole words, case-sensitive) is said as `phoneme` (IPA) by
    engines that take phonemes, else as `alias`; at least one of the two is set. With a
    `language`, the entry applies only to text in that language (its primary subtag)."""

    grapheme: str
    phoneme: str | None = None
    alias: str | None = None
    language: str | None = None

    def __post_init__(self) -> None:
        _bounded("grapheme", self.grapheme, MAX_GRAPHEME_CHARS)
        if self.phoneme is None and self.alias is None:
            raise ValueError(f"entry '{self.grapheme}' needs a phoneme or an alias")
        if self.phoneme is not None:
            _bounded("phoneme", self.phoneme, MAX_PHONEME_CHARS)
        if self.alias is not None:
            _bounded("alias", self.alias, MAX_ALIAS_CHARS)
        if self.language is not None:
            _bounded("lang", self.language, MAX_LANGUAGE_CHARS)

    def applies_to(self, language: str | None) -> bool:
        """Whether the entry is for text in `language` (None: not known, so it is)."""
        if self.language is None or language is None:
            return True
        return _primary(self.language) == _primary(language)


def _primary(language: str) -> str:
    return language.replace("_", "-").split("-", 1)[0].lower()


def check_text(name: str, value: str) -> str:
    """`value`, or a ValueError when it holds control characters or broken Unicode (lone
    surrogates): nothing a lexicon means, and not storable in every database."""
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in value):
        raise ValueError(f"{name} holds control characters or broken Unicode")
    return value


def _bounded(name: str, value: str, limit: int) -> None:
    if not value.strip():
        raise ValueError(f"{name} must not be blank")
    if len(value) > limit:
        raise ValueError(f"{name} '{value[:40]}...' is longer than {limit} characters")
    check_text(name, value)
