"""Split text into sentences so the first audio leaves after the first sentence.

Pieces stay short enough (`max_chars`) that a cancelled request frees the engine quickly:
an over-long sentence is cut at a clause mark, else at a space, else hard.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

_ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "sr",
        "jr",
        "st",
        "vs",
        "etc",
        "e.g",
        "i.e",
        "approx",
        "no",
        "vol",
        "fig",
        "inc",
        "ltd",
        "co",
        "corp",
        "mt",
        "ft",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "a.m",
        "p.m",
    ]
)
# A sentence ends at . ! ? … (with closing quotes/brackets) followed by whitespace, or at a
# CJK full stop; a blank line always ends one.
_BOUNDARY = re.compile(r"""([.!?…]+["'”’)\]]*)(\s+)|([。！？]+)|(\n\s*\n)""")
_CLAUSE = re.compile(r"[,;:—–]\s+")


def split_sentences(text: str, max_chars: int = 300) -> list[str]:
    """Sentences of `text` in order, whitespace-normalised, none longer than `max_chars`."""
    if max_chars < 20:
        raise ValueError("max_chars must be at least 20")
    pieces: list[str] = []
    for sentence in _sentences(text):
        pieces.extend(_bounded(sentence, max_chars))
    return pieces


def _sentences(text: str) -> Iterator[str]:
    start = 0
    for match in _BOUNDARY.finditer(text):
        end = match.end(1) if match.group(1) else match.end()
        candidate = text[start:end]
        if match.group(1) and _ends_with_abbreviation_or_number(text, match):
            continue
        cleaned = " ".join(candidate.split())
        if cleaned:
            yield cleaned
        start = match.end()
    tail = " ".join(text[start:].split())
    if tail:
        yield tail


def _ends_with_abbreviation_or_number(text: str, match: re.Match[str]) -> bool:
    if match.group(1) != ".":
        return False
    before = text[: match.start(1)]
    word = before.rsplit(maxsplit=1)[-1].lower() if before.strip() else ""
    if word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
        return True
    # "3. 5" is rare; "version 2. Then" is a sentence end, so only initials/abbreviations count.
    following = text[match.end() : match.end() + 1]
    return bool(word) and word[-1].isdigit() and following.isdigit()


def _bounded(sentence: str, max_chars: int) -> Iterator[str]:
    while len(sentence) > max_chars:
        window = sentence[:max_chars]
        cut = _last_clause_end(window)
        if cut <= max_chars // 3:
            space = window.rfind(" ")
            cut = space if space > max_chars // 3 else max_chars
        yield sentence[:cut].strip()
        sentence = sentence[cut:].strip()
    if sentence:
        yield sentence


def _last_clause_end(window: str) -> int:
    last = -1
    for match in _CLAUSE.finditer(window):
        last = match.start() + 1
    return last
