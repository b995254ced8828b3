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
from chorus_contracts.languages import normalize_language

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
# English words a new phrase starts with, where a short pause sounds natural when no
# punctuation comes: conjunctions and relative words, prepositions, determiners. Other
# languages get no word list: their first piece ends at a clause mark or the word limit.
_ENGLISH_PHRASE_OPENERS = frozenset(
    [
        # conjunctions, relative and subordinating words
        "and", "but", "or", "so", "because", "although", "though", "while", "whereas",
        "which", "who", "whom", "whose", "that", "when", "where", "if", "unless", "until",
        "since", "after", "before", "as", "than", "then",
        # prepositions (not "of", which binds its phrase to the noun before it)
        "in", "on", "at", "to", "for", "with", "from", "by", "into", "onto", "over",
        "under", "through", "during", "about", "across", "along", "around", "between",
        "behind", "near", "without", "within", "against", "toward", "towards", "among",
        # determiners (not "her", as often the object before the phrase as its start)
        "the", "a", "an", "this", "these", "those", "my", "your", "his", "its", "our",
        "their", "every", "each", "some", "several", "most",
    ]
)  # fmt: skip
# Words that need the words after them: a head never ends on one.
_ENGLISH_BOUND_FORWARD = _ENGLISH_PHRASE_OPENERS | {"of"}
# The first piece has at least this many words, so it is worth a request of its own; one
# that ends without a clause mark has a few more, as a bare phrase is heard less clearly.
_FIRST_PIECE_MIN_WORDS = 3
_FIRST_PHRASE_MIN_WORDS = 5


def speech_pieces(
    text: str, chunking: TextChunking | None, language: str | None = None
) -> list[str]:
    """What a provider with this `chunking` synthesizes, in order (None: one piece), for
    text in `language` (English when None, as the normalizer reads it)."""
    if chunking is None:
        return [text] if text.strip() else []
    return split_sentences(text, chunking.max_chars, chunking.first_piece_max_words, language)


def split_sentences(
    text: str,
    max_chars: int = 300,
    first_piece_max_words: int = 0,
    language: str | None = None,
) -> list[str]:
    """Sentences of `text` in order, whitespace-normalised, none longer than `max_chars`;
    with `first_piece_max_words`, the first sentence is cut at its first boundary within
    that many words (phrase boundaries are found in English text only)."""
    if max_chars < 20:
        raise ValueError("max_chars must be at least 20")
    pieces: list[str] = []
    for sentence in _sentences(text):
        pieces.extend(_bounded(sentence, max_chars))
    if pieces and first_piece_max_words > 0:
        pieces[:1] = _short_first(pieces[0], first_piece_max_words, _is_english(language))
    return pieces


def ends_sentence(piece: str) -> bool:
    """Whether a piece closes its sentence (a short first piece does not): engines that add
    a pause between sentences leave it out inside one."""
    return _SENTENCE_END.search(piece) is not None


def ends_clause(piece: str) -> bool:
    """Whether a piece stops at a clause mark (a comma, a semicolon, a dash), where an engine
    reading it pauses by itself."""
    return _CLAUSE_END.search(piece.rsplit(" ", 1)[-1]) is not None


def _is_english(language: str | None) -> bool:
    if language is None:
        return True
    code = normalize_language(language)
    return code == "en" or code.startswith("en-")


def _short_first(sentence: str, max_words: int, english: bool) -> list[str]:
    """The sentence as a short head and the rest; whole if it is short already."""
    words = sentence.split(" ")
    if len(words) <= max_words:
        return [sentence]
    cut = _first_boundary(words, max_words, english)
    assert cut is not None, "a sentence longer than max_words always has its boundary"
    return [" ".join(words[:cut]), " ".join(words[cut:])]


def first_piece(words: list[str], max_words: int, language: str | None = None) -> int | None:
    """How many of a sentence's first words make its short first piece, decided from the
    words written so far (each one complete); None while more words could still change it.

    For text that arrives as it is written (a voice agent's LLM): the piece leaves as soon
    as its boundary is certain, the same boundary `split_sentences` cuts a whole text at.
    """
    if max_words <= 0:
        return None
    return _first_boundary(words, max_words, _is_english(language))


def _first_boundary(words: list[str], max_words: int, english: bool) -> int | None:
    """How many words the head keeps: up to the first boundary after a few words, a clause
    mark or (English) the start of a phrase; else `max_words`, less any words at its end
    that open a phrase (English), so the head never stops on "the" or "in". None when
    `words` end before the boundary is known (never for a sentence of over `max_words`)."""
    for count in range(_FIRST_PIECE_MIN_WORDS, max_words + 1):
        if count > len(words):
            return None
        if _CLAUSE_END.search(words[count - 1]):
            return count
        if english and count >= _FIRST_PHRASE_MIN_WORDS:
            if count == len(words):
                return None
            if _opens_phrase(words, count):
                return count
    if len(words) <= max_words:
        return None
    cut = max_words
    while english and cut > _FIRST_PIECE_MIN_WORDS and _bound_forward(words[cut - 1]):
        cut -= 1
    return cut


def _opens_phrase(words: list[str], count: int) -> bool:
    """Whether a phrase starts after the first `count` words: at an opening word that does
    not follow one that needs it ("in the", "of a", "and so" stay together)."""
    return words[count].lower() in _ENGLISH_PHRASE_OPENERS and not _bound_forward(words[count - 1])


def _bound_forward(word: str) -> bool:
    return word.lower() in _ENGLISH_BOUND_FORWARD


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
