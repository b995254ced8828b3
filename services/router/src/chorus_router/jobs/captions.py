"""A chapter's captions (WebVTT and SRT) from the word timings of its pieces.

A piece spoken by a provider that times words is checkpointed with its words beside its
PCM; a chapter whose every piece has them gets captions, its pieces' timings moved by where
each piece starts in the chapter. Calls block: run them in a worker thread."""

from __future__ import annotations

import io

from pydantic import TypeAdapter

from chorus_contracts import WordTimestamp
from chorus_router.artifacts.storage import ObjectMissing, ObjectStorage
from chorus_router.jobs.audio import ChapterAudio
from chorus_router.speech.captions import srt, webvtt

_WORDS = TypeAdapter(list[WordTimestamp])
# A piece is at most 4096 characters: its words' JSON is far smaller than this.
_MAX_WORDS_BYTES = 4 * 1024 * 1024


def words_key(pcm_key: str) -> str:
    """Where a piece's word timings are stored: beside its PCM."""
    return f"{pcm_key.removesuffix('.pcm')}.words"


def store_words(storage: ObjectStorage, pcm_key: str, words: list[WordTimestamp]) -> None:
    storage.publish(words_key(pcm_key), io.BytesIO(_WORDS.dump_json(words)), "application/json")


def chapter_captions(storage: ObjectStorage, chapter: ChapterAudio) -> tuple[str, str] | None:
    """The chapter's (WebVTT, SRT); None when a piece of it has no word timings."""
    words: list[WordTimestamp] = []
    start = 0
    for key, samples in chapter.pieces:
        try:
            stored = b"".join(storage.read(words_key(key), 0, _MAX_WORDS_BYTES))
        except ObjectMissing:
            return None
        offset = start / chapter.sample_rate
        words += [
            WordTimestamp(
                word=w.word, start_time=w.start_time + offset, end_time=w.end_time + offset
            )
            for w in _WORDS.validate_json(stored)
        ]
        start += samples
    return webvtt(words), srt(words)
