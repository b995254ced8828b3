"""What the lexicon store takes in and gives back: plain values, never database rows."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field

from chorus_text.lexicon import Lexicon, LexiconEntry

LEXICON_ID = re.compile(r"lex_[0-9a-f]{24}")


@dataclass(frozen=True)
class LexiconRecord:
    id: str
    owner: str
    name: str
    language: str | None
    version: str
    entry_count: int
    created_us: int  # microseconds: orders records made in the same second
    entries: tuple[LexiconEntry, ...] = field(default=(), compare=False)

    @property
    def created_at(self) -> int:
        return self.created_us // 1_000_000


@dataclass(frozen=True)
class AppliedLexicons:
    """The lexicons one request applies, in the order named (the first wins a word), and
    their versions, which its cached response is keyed by."""

    lexicon: Lexicon
    versions: tuple[str, ...]


def entries_json(entries: tuple[LexiconEntry, ...]) -> str:
    """Entries as the stored JSON: canonical, so equal entries hash to one version."""
    rows = [
        {"grapheme": e.grapheme, "phoneme": e.phoneme, "alias": e.alias, "lang": e.language}
        for e in entries
    ]
    return json.dumps(rows, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def entries_of(stored: str) -> tuple[LexiconEntry, ...]:
    return tuple(
        LexiconEntry(row["grapheme"], row["phoneme"], row["alias"], row["lang"])
        for row in json.loads(stored)
    )


def version_of(stored: str) -> str:
    return hashlib.sha256(stored.encode("utf-8")).hexdigest()
