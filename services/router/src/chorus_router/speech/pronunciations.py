"""The lexicon entries a request's text uses, for a provider that keeps a dictionary of its own.

Only the entries the text uses are sent, so a request carries a bounded handful rather than
every entry of its lexicons, and one set of entries is one dictionary on the vendor's side
(its version is a hash of the entries, the same for every text that uses them).
"""

from __future__ import annotations

import hashlib
import json

from chorus_contracts import (
    MAX_PRONUNCIATIONS,
    Capabilities,
    InvalidRequest,
    Pronunciation,
    Pronunciations,
)
from chorus_router.lexicons.records import AppliedLexicons
from chorus_text.ssml import Markup


def dictionary_entries(
    markup: Markup | None,
    lexicons: AppliedLexicons | None,
    caps: Capabilities | None,
    language: str | None,
) -> Pronunciations | None:
    """What a provider with a pronunciation dictionary of its own is sent (markup.py leaves
    the entries unapplied for it); None for any other provider, or when nothing applies."""
    if markup is None or lexicons is None or caps is None or not caps.pronunciation_dictionary:
        return None
    return used_pronunciations(markup, lexicons, language)


def used_pronunciations(
    markup: Markup, lexicons: AppliedLexicons, language: str | None
) -> Pronunciations | None:
    """The entries that `markup`'s words spoken in `language` match, first lexicon first;
    None when none does. A `<phoneme>` already says how its words sound."""
    used: dict[str, Pronunciation] = {}
    for segment in markup.segments:
        if segment.phonemes is not None:
            continue
        index = lexicons.lexicon.index_for(segment.language or language, phonemes=True)
        for match in index.find(segment.text):
            entry = match.entry
            used.setdefault(
                entry.grapheme,
                Pronunciation(grapheme=entry.grapheme, phoneme=entry.phoneme, alias=entry.alias),
            )
    if not used:
        return None
    if len(used) > MAX_PRONUNCIATIONS:
        raise InvalidRequest(
            f"the input uses more than {MAX_PRONUNCIATIONS} lexicon entries; send it in "
            "several requests",
            param="lexicons",
        )
    entries = sorted(used.values(), key=lambda p: p.grapheme)
    canonical = json.dumps(
        [p.model_dump() for p in entries], ensure_ascii=False, separators=(",", ":")
    )
    version = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return Pronunciations(version=version, entries=entries)
