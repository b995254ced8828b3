"""Split text into the pieces an engine synthesizes one after another.

Pieces are sentences, short enough (`max_chars`) that a cancelled request frees the engine
quickly: an over-long sentence is cut at a clause mark, else at a space, else hard. The
first piece may be shorter still, ending at the first clause or phrase boundary after a few
words, so the first audio leaves before the whole first sentence is made; prosody suffers
only at that one join.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from chorus_contracts import TextChunking

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
_SENTENCE_END = re.compile(r"""[.!?…。！？]["'”’)\]]*\s*$""")
_CLAUSE = re.compile(r"[,;:—–]\s+")
_CLAUSE_END = re.compile(r"[,;:—–、，；：]$|^[—–]$")
# Words a new phrase starts with, where a pause sounds natural when no punctuation comes.
_PHRASE_STARTS = frozenset(
    [
        "and",
        "but",
        "or",
        "so",
        "because",
        "although",
        "though",
        "while",
        "whereas",
        "which",
        "who",
        "whom",
        "whose",
        "that",
        "when",
        "where",
        "if",
        "unless",
        "until",
        "since",
        "after",
        "before",
        "as",
        "than",
        "then",
    ]
)
# The first piece has at least this many words, so it is worth a request of its own.
_FIRST_PIECE_MIN_WORDS = 3


def speech_pieces(text: str, chunking: TextChunking | None) -> list[str]:
    """What a provider with this `chunking` synthesizes, in order (None: one piece)."""
    if chunking is None:
        return [text] if text.strip() else []
    return split_sentences(text, chunking.max_chars, chunking.first_piece_max_words)


def split_sentences(text: str, max_chars: int = 300, first_piece_max_words: int = 0) -> list[str]:
    """Sentences of `text` in order, whitespace-normalised, none longer than `max_chars`;
    with `first_piece_max_words`, the first sentence is cut at its first boundary within
    that many words."""
    if max_chars < 20:
        raise ValueError("max_chars must be at least 20")
    pieces: list[str] = []
    for sentence in _sentences(text):
        pieces.extend(_bounded(sentence, max_chars))
    if pieces and first_piece_max_words > 0:
        pieces[:1] = _short_first(pieces[0], first_piece_max_words)
    return pieces


def ends_sentence(piece: str) -> bool:
    """Whether a piece closes its sentence (a short first piece does not): engines that add
    a pause between sentences leave it out inside one."""
    return _SENTENCE_END.search(piece) is not None


def _short_first(sentence: str, max_words: int) -> list[str]:
    """The sentence as a short head and the rest; whole if it is short already."""
    words = sentence.split(" ")
    if len(words) <= max_words:
        return [sentence]
    cut = _first_boundary(words, max_words)
    return [" ".join(words[:cut]), " ".join(words[cut:])]


def _first_boundary(words: list[str], max_words: int) -> int:
    """How many words the head keeps: after the first clause mark, else before the first
    phrase-opening word, else `max_words`."""
    window = range(_FIRST_PIECE_MIN_WORDS, max_words + 1)
    for count in window:
        if _CLAUSE_END.search(words[count - 1]):
            return count
    for count in window:
        if words[count].lower() in _PHRASE_STARTS:
            return count
    return max_words


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
