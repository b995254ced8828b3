"""An SSML document as a job: compiled once, exactly as a speech request's SSML is, and its
segments packed into pieces.

The document is one chapter. A segment ends at every sentence, paragraph, break and change
of style (and around a word said otherwise than written, for its timings), so pieces are
runs of whole sentences of at most `max_chars` characters (a sentence longer than that is
cut between its segments, and a segment longer than that as plain text is, keeping its
style); a piece carries its segments, and the provider gets them as it would a speech
request's."""

from __future__ import annotations

import re

from chorus_contracts import InvalidRequest, SpeechSegment
from chorus_router.jobs.chapters import Piece
from chorus_router.speech.markup import compile_markup
from chorus_text import split_sentences
from chorus_text.ssml import join_words

_WORD = re.compile(r"\w")
_SENTENCE_END = re.compile(r"[.!?…][\"')\]]*$")


def ssml_pieces(source: str, voice: str, max_chars: int) -> list[Piece]:
    """The document's pieces in `voice`; a 400 for a document that is not valid SSML."""
    runs: list[list[SpeechSegment]] = []
    size = 0
    for sentence in _sentences(_bounded(compile_markup(source).segments, max_chars), max_chars):
        words = len(_text(sentence))
        if runs and (size + 1 + words <= max_chars or not _WORD.search(_text(runs[-1]))):
            runs[-1] += sentence
            size += 1 + words
        else:
            runs.append(sentence)
            size = words
    if not runs or not _WORD.search(_text(runs[0])):
        raise InvalidRequest("input must contain text to speak", param="input")
    if len(runs) > 1 and not _WORD.search(_text(runs[-1])):
        runs[-2] += runs.pop()  # a closing pause has no words to be a piece of its own
    return [Piece(_text(run), voice, tuple(run)) for run in runs]


def _sentences(segments: list[SpeechSegment], max_chars: int) -> list[list[SpeechSegment]]:
    """Segments grouped into sentences, which end at a full stop or a pause: a piece ends
    mid-sentence only where one sentence alone is longer than `max_chars`."""
    sentences: list[list[SpeechSegment]] = []
    current: list[SpeechSegment] = []
    for segment in segments:
        if current and len(_text([*current, segment])) > max_chars:
            sentences.append(current)
            current = []
        current.append(segment)
        if segment.pause_ms or _SENTENCE_END.search(segment.text):
            sentences.append(current)
            current = []
    if current:
        sentences.append(current)
    return sentences


def _bounded(segments: list[SpeechSegment], max_chars: int) -> list[SpeechSegment]:
    """Segments of at most `max_chars`: a longer one in parts, its style kept, its marks on
    the first part and its pause after the last (its phonemes, if any, cannot be cut)."""
    bounded: list[SpeechSegment] = []
    for segment in segments:
        if len(segment.text) <= max_chars or segment.phonemes is not None:
            bounded.append(segment)
            continue
        parts = split_sentences(segment.text, max_chars)
        for number, part in enumerate(parts):
            last = number == len(parts) - 1
            bounded.append(
                segment.model_copy(
                    update={
                        "text": part,
                        "marks": segment.marks if number == 0 else [],
                        "pause_ms": segment.pause_ms if last else 0,
                    }
                )
            )
    return bounded


def _text(run: list[SpeechSegment]) -> str:
    return join_words(s.text for s in run)
