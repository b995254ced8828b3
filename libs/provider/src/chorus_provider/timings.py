"""Word timings from an engine's own phoneme timings.

Engines that phonemize with espeak-ng put a space phoneme between words, so the phonemes
between two spaces are one word's, and the word is heard from the first of them to the last.
That pairs phoneme words with the piece's words when both count the same; when they do not
(espeak-ng joined or split a word), the pairing is refused rather than guessed, and the
engine phonemizes word by word instead, which pairs by construction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from chorus_contracts import WordTimestamp
from chorus_provider.shaping import trimmed

# The punctuation a timed word is shown without.
_EDGE_PUNCTUATION = ".,;:!?\"'()«»“”‘’"
# What espeak-ng and the models keep of punctuation: no sound of their own to time.
_MARKS = frozenset(";:,.!?¡¿—…\"«»“”()-–'‘’^$_")


@dataclass(frozen=True)
class PhonemeSpan:
    """One phoneme symbol and when it is heard, in seconds from the piece's start."""

    symbol: str
    start: float
    end: float


def spans_from_samples(
    symbols: Sequence[str], samples: Sequence[int], sample_rate: int, offset_s: float = 0.0
) -> list[PhonemeSpan]:
    """Spans of phonemes given as sample counts, one after another (Piper's alignments)."""
    spans, at = [], offset_s
    for symbol, count in zip(symbols, samples, strict=True):
        end = at + int(count) / sample_rate
        spans.append(PhonemeSpan(symbol, at, end))
        at = end
    return spans


def spoken_words(piece: str) -> list[str]:
    """The piece's words that make a sound: punctuation alone is not a word."""
    return [w for w in piece.split() if any(ch.isalnum() for ch in w)]


def pair_words(piece: str, spans: Sequence[PhonemeSpan]) -> list[WordTimestamp] | None:
    """Each word of `piece` with the time of its phonemes; None if the counts differ."""
    groups: list[list[PhonemeSpan]] = [[]]
    for span in spans:
        if span.symbol.isspace():
            groups.append([])
        else:
            groups[-1] += sounded([span])
    heard = [g for g in groups if g]
    words = spoken_words(piece)
    if len(heard) != len(words):
        return None
    return [word_timing(word, g) for word, g in zip(words, heard, strict=True)]


def word_timing(word: str, spans: Sequence[PhonemeSpan]) -> WordTimestamp:
    """A word heard from the first of its sounded phonemes to the last (`spans`, never empty,
    holds no space or punctuation mark)."""
    return WordTimestamp(word=_bare(word), start_time=spans[0].start, end_time=spans[-1].end)


def sounded(spans: Sequence[PhonemeSpan]) -> list[PhonemeSpan]:
    """The spans that make a sound of their own: no spaces, no punctuation marks."""
    return [s for s in spans if not s.symbol.isspace() and s.symbol not in _MARKS]


def phoneme_words(phonemes: str) -> int:
    """How many sounded words a phoneme string holds (what `pair_words` will count)."""
    return sum(1 for group in phonemes.split() if any(ch not in _MARKS for ch in group))


def written_timing(
    written: str, words: Sequence[WordTimestamp], pcm: bytes, sample_rate: int
) -> list[WordTimestamp]:
    """What the input wrote (a `<sub>`'s "WWW" for "World Wide Web"), as one timing over
    the words said for it; when the engine timed none of them, over the piece's sound."""
    written = _bare(written)
    if words:
        return [
            WordTimestamp(word=written, start_time=words[0].start_time, end_time=words[-1].end_time)
        ]
    sound, start = trimmed(pcm, sample_rate, start=True, end=True)
    if not sound:
        return []
    end = start + len(sound) / 2 / sample_rate
    return [WordTimestamp(word=written, start_time=start, end_time=end)]


def _bare(word: str) -> str:
    return word.strip(_EDGE_PUNCTUATION)
