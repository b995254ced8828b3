"""The lexicon pass: written words found in speech segments, said as their entries say.

It runs once per engine. For an engine that takes phonemes (Piper, Kokoro), an entry with
a phoneme becomes a segment of its own that carries the IPA and keeps the written word as
its text (so word timings name the word the user wrote). For the others, an entry's alias
is written in place of the word, and an entry with only a phoneme leaves the word as it is.
An alias-only entry is written in for every engine. Explicit `<phoneme>` segments are left
as they are: the markup said how to say them.

Words are found by looking each word of the text up in an index keyed by an entry's first
word, so the cost follows the text's length, not the number of entries. A `Lexicon` builds
each index it needs once (per language and per kind of engine) and keeps it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from chorus_contracts import InvalidRequest, SpeechSegment
from chorus_contracts.provider import MAX_SEGMENTS
from chorus_text.lexicon.entries import LexiconEntry

# Where a grapheme may start: a whole word, or one sign ("C++" starts at "C", "€uro" at "€").
_TOKEN = re.compile(r"\w+|[^\w\s]")
_WORD_CHAR = re.compile(r"\w")


@dataclass(frozen=True)
class _Found:
    start: int
    end: int
    entry: LexiconEntry


class _Index:
    """The entries for one language, by the token a match must start with, longest first."""

    def __init__(
        self, entries: Sequence[LexiconEntry], language: str | None, phonemes: bool
    ) -> None:
        by_token: dict[str, list[LexiconEntry]] = {}
        seen: set[str] = set()
        for entry in entries:
            # The first lexicon named wins where two spell the same word.
            usable = phonemes or entry.alias is not None
            if entry.grapheme in seen or not usable or not entry.applies_to(language):
                continue
            seen.add(entry.grapheme)
            first = _TOKEN.match(entry.grapheme)
            if first is not None:
                by_token.setdefault(first.group(), []).append(entry)
        self._by_token = {
            token: sorted(found, key=lambda e: len(e.grapheme), reverse=True)
            for token, found in by_token.items()
        }

    def find(self, text: str) -> list[_Found]:
        found: list[_Found] = []
        position = 0
        while (token := _TOKEN.search(text, position)) is not None:
            position = token.end()
            for entry in self._by_token.get(token.group(), ()):
                end = token.start() + len(entry.grapheme)
                if text.startswith(entry.grapheme, token.start()) and not _joins(text, end):
                    found.append(_Found(token.start(), end, entry))
                    position = end
                    break
        return found


def _joins(text: str, end: int) -> bool:
    """Whether a match ending at `end` would end inside a word ("New" in "Newton")."""
    return (
        end < len(text)
        and _WORD_CHAR.match(text[end - 1]) is not None
        and _WORD_CHAR.match(text[end]) is not None
    )


class Lexicon:
    """Entries in the order they win (the first of two with one grapheme), with the indexes
    built from them so far. Safe to share between threads: at worst two build one index."""

    def __init__(self, entries: Sequence[LexiconEntry]) -> None:
        self.entries = tuple(entries)
        self._indexes: dict[tuple[str | None, bool], _Index] = {}

    def index_for(self, language: str | None, phonemes: bool) -> _Index:
        key = (language, phonemes)
        index = self._indexes.get(key)
        if index is None:
            index = self._indexes[key] = _Index(self.entries, language, phonemes)
        return index


def pronounce(
    segments: list[SpeechSegment],
    lexicon: Lexicon,
    language: str | None,
    *,
    phonemes: bool,
) -> list[SpeechSegment]:
    """`segments` with the lexicon applied for an engine that takes `phonemes` or not;
    `language` is the one it speaks (a segment's own `<lang>` goes first). Unchanged
    segments come back as they were."""
    said: list[SpeechSegment] = []
    for segment in segments:
        if segment.phonemes is not None or not lexicon.entries:
            said.append(segment)
            continue
        index = lexicon.index_for(segment.language or language, phonemes)
        said.extend(_split(segment, index.find(segment.text), phonemes))
    if len(said) > MAX_SEGMENTS:
        raise InvalidRequest(
            f"the lexicons' phoneme entries cut the input into more than {MAX_SEGMENTS} "
            "segments; send it in several requests",
            param="lexicons",
        )
    return said


def _split(segment: SpeechSegment, found: list[_Found], phonemes: bool) -> list[SpeechSegment]:
    """The segment cut around phoneme entries, aliases written in; its marks stay on the
    first part and its pause after the last."""
    if not found:
        return [segment]
    parts: list[SpeechSegment] = []
    words: list[str] = []
    text, position = segment.text, 0

    def cut(phonemes: str | None = None) -> None:
        said = "".join(words).strip()
        words.clear()
        if said:
            marks = [] if parts else segment.marks
            update = {"text": said, "phonemes": phonemes, "pause_ms": 0, "marks": marks}
            parts.append(segment.model_copy(update=update))

    for match in found:
        words.append(text[position : match.start])
        entry = match.entry
        if phonemes and entry.phoneme is not None:
            cut()
            words.append(entry.grapheme)
            cut(entry.phoneme)
        else:
            words.append(entry.alias or entry.grapheme)
        position = match.end
    words.append(text[position:])
    cut()
    parts[-1] = parts[-1].model_copy(update={"pause_ms": segment.pause_ms})
    return parts
