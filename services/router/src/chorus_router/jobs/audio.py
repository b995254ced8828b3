"""A finished job's audio files, made from its checkpointed pieces: one file per chapter in
the requested format, and the whole work as one M4B (AAC in MP4) with a chapter marker per
chapter. Pieces stream from the store through the encoders block by block, so a whole book
is never held in memory. Calls block: run them in a worker thread."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import BinaryIO

import av
import numpy as np
from av.audio.stream import AudioStream

from chorus_audio import OUTPUT_SAMPLE_RATE, AudioFormat, Resampler, open_encoder
from chorus_router.artifacts.capture import finalize_wav_spool
from chorus_router.artifacts.storage import ObjectStorage

_WIDTH = 2  # bytes per s16 sample
_BOOK_BIT_RATE = 64_000


def piece_key(job_id: str, chapter: int, piece: int) -> str:
    """Where a piece's PCM is checkpointed: fixed by its position, so a resumed job (or a
    cleanup) finds it without a listing."""
    return f"{job_id}_{chapter:04d}_{piece:05d}.pcm"


@dataclass(frozen=True)
class ChapterAudio:
    """One chapter's pieces in order: their keys and sample counts, at one rate."""

    index: int
    title: str
    sample_rate: int
    pieces: list[tuple[str, int]]

    @property
    def duration_s(self) -> float:
        return sum(samples for _, samples in self.pieces) / self.sample_rate

    def pcm(self, storage: ObjectStorage) -> Iterator[bytes]:
        for key, samples in self.pieces:
            yield from storage.read(key, 0, samples * _WIDTH)


def encode_chapter(storage: ObjectStorage, chapter: ChapterAudio, fmt: str, out: BinaryIO) -> int:
    """The chapter in `fmt` (24 kHz, as the speech endpoint's files) into `out`; its size."""
    encoder = open_encoder(fmt, chapter.sample_rate)
    size = 0
    try:
        for block in chapter.pcm(storage):
            size += out.write(encoder.encode(block))
        size += out.write(encoder.finish())
    finally:
        encoder.close()
    if AudioFormat(fmt) is AudioFormat.WAV:
        finalize_wav_spool(out, size)
    return size


def encode_book(
    storage: ObjectStorage, chapters: list[ChapterAudio], title: str, gap_s: float, out: BinaryIO
) -> None:
    """Every chapter into one M4B in `out` (a seekable file), with `gap_s` of silence after
    each but the last, and a chapter marker (its title) from each chapter's start to the
    next one's (MP4 chapters are contiguous: a gap belongs to the chapter before it)."""
    container = av.open(out, "w", format="ipod")
    try:
        stream = container.add_stream("aac", rate=OUTPUT_SAMPLE_RATE)
        if not isinstance(stream, AudioStream):
            raise TypeError("aac is not an audio codec")
        stream.layout = "mono"
        stream.bit_rate = _BOOK_BIT_RATE
        book = _Book(container, stream)
        marks = []
        for number, chapter in enumerate(chapters):
            start = book.samples
            resampler = Resampler(chapter.sample_rate, OUTPUT_SAMPLE_RATE)
            for block in chapter.pcm(storage):
                book.write(resampler.process(block))
            book.write(resampler.flush())
            if number < len(chapters) - 1:
                book.write(bytes(int(gap_s * OUTPUT_SAMPLE_RATE) * _WIDTH))
            marks.append((start, book.samples, chapter.title))
        book.finish()
        container.metadata["title"] = title
        container.set_chapters(
            [
                {
                    "id": number + 1,
                    "start": start,
                    "end": end,
                    "time_base": Fraction(1, OUTPUT_SAMPLE_RATE),
                    "metadata": {"title": name},
                }
                for number, (start, end, name) in enumerate(marks)
            ]
        )
    finally:
        container.close()


class _Book:
    """The M4B's one audio stream, fed 24 kHz s16 PCM; PyAV reframes it for the encoder."""

    def __init__(self, container: av.container.OutputContainer, stream: AudioStream) -> None:
        self._container = container
        self._stream = stream
        self.samples = 0

    def write(self, pcm: bytes) -> None:
        if not pcm:
            return
        samples = np.frombuffer(pcm, dtype="<i2").reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
        frame.sample_rate = OUTPUT_SAMPLE_RATE
        frame.pts = self.samples
        frame.time_base = Fraction(1, OUTPUT_SAMPLE_RATE)
        self.samples += frame.samples
        self._container.mux(self._stream.encode(frame))

    def finish(self) -> None:
        self._container.mux(self._stream.encode(None))
