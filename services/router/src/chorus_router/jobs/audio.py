"""A job's audio files, made from its checkpointed pieces in one pass: each chapter's file in
the requested format and the whole work as one file with a chapter marker per chapter,
an M4B (AAC in MP4) or an MP3 with ID3 chapter frames (CHAP/CTOC). Chapters are fed in
order as they are finished, piece by piece, while later chapters are still being spoken;
pieces stream from the store through the encoders block by block, so a whole book is never
held in memory. Calls block: run them in a worker thread."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass
from fractions import Fraction
from typing import BinaryIO, Protocol

import av
import numpy as np
from av.audio.stream import AudioStream
from mutagen.id3 import CHAP, CTOC, ID3, TIT2, CTOCFlags

from chorus_audio import OUTPUT_SAMPLE_RATE, AudioFormat, Resampler, StreamEncoder, open_encoder
from chorus_router.artifacts.capture import finalize_wav_spool
from chorus_router.artifacts.storage import ObjectStorage
from chorus_router.jobs.records import BookFormat

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


@dataclass(frozen=True)
class ChapterMark:
    """A chapter's span in the whole work, in samples at 24 kHz."""

    start: int
    end: int
    title: str


class _Book(Protocol):
    def write(self, pcm: bytes) -> None: ...
    def finish(self, title: str, marks: list[ChapterMark]) -> None: ...
    def close(self) -> None: ...


class WorkEncoder:
    """Feeds each chapter's pieces, chapter after chapter, through the resampler once and
    into both the chapter's file and the whole work (`gap_s` of silence after each chapter
    but the last; a gap belongs to the chapter before it, as chapters are contiguous).

    The whole work is encoded on a thread of its own, one block behind the chapter's file:
    the codecs let go of the GIL, so the two encoders share the cores where they would take
    turns (an MP3 chapter and the M4B: 818 ms one after the other for two minutes of audio,
    570 ms side by side), which shortens the last chapter's encoding after its last piece.
    """

    def __init__(
        self,
        storage: ObjectStorage,
        fmt: str,
        book_format: BookFormat,
        book_out: BinaryIO,
        chapters: int,
        gap_s: float,
    ) -> None:
        self._storage = storage
        self._format = fmt
        self._book: _Book = (
            _M4bBook(book_out) if book_format is BookFormat.M4B else _Mp3Book(book_out)
        )
        self._chapters = chapters
        self._gap = bytes(int(gap_s * OUTPUT_SAMPLE_RATE) * _WIDTH)
        self._marks: list[ChapterMark] = []
        self._samples = 0
        self._open: _ChapterFile | None = None
        self._book_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="job-book")
        self._book_write: Future[None] | None = None

    def begin_chapter(self, chapter: ChapterAudio, out: BinaryIO) -> None:
        self._open = _ChapterFile(chapter, self._format, out, self._samples)

    def add_piece(self, key: str, samples: int) -> None:
        assert self._open is not None
        for block in self._storage.read(key, 0, samples * _WIDTH):
            self._write(self._open.encode(block))

    def end_chapter(self) -> int:
        """Close the chapter's file; its size."""
        chapter, self._open = self._open, None
        assert chapter is not None
        tail, size = chapter.finish()
        self._write(tail)
        if len(self._marks) < self._chapters - 1:
            self._write(self._gap)
        self._marks.append(ChapterMark(chapter.start, self._samples, chapter.title))
        return size

    def finish(self, title: str) -> None:
        self._written()
        self._book.finish(title, self._marks)

    def close(self) -> None:
        if self._open is not None:
            self._open.close()
        with suppress(Exception):  # the work is being given up: its last write is moot
            self._written()
        self._book_thread.shutdown()
        self._book.close()

    def _write(self, pcm: bytes) -> None:
        self._samples += len(pcm) // _WIDTH
        self._written()
        self._book_write = self._book_thread.submit(self._book.write, pcm)

    def _written(self) -> None:
        """Wait for the block the work's thread is encoding; raises what it raised."""
        write, self._book_write = self._book_write, None
        if write is not None:
            write.result()


class _ChapterFile:
    """One chapter's file being written: its PCM resampled to 24 kHz (returned for the
    whole work too) and encoded in the job's format."""

    def __init__(self, chapter: ChapterAudio, fmt: str, out: BinaryIO, start: int) -> None:
        self.title = chapter.title
        self.start = start
        self._resampler = Resampler(chapter.sample_rate, OUTPUT_SAMPLE_RATE)
        self._encoder: StreamEncoder = open_encoder(fmt, OUTPUT_SAMPLE_RATE)
        self._wav = AudioFormat(fmt) is AudioFormat.WAV
        self._out = out
        self._size = 0

    def encode(self, pcm: bytes) -> bytes:
        resampled = self._resampler.process(pcm)
        self._size += self._out.write(self._encoder.encode(resampled))
        return resampled

    def finish(self) -> tuple[bytes, int]:
        """The resampler's last samples, and the file's size once complete."""
        tail = self._resampler.flush()
        self._size += self._out.write(self._encoder.encode(tail))
        self._size += self._out.write(self._encoder.finish())
        self.close()
        if self._wav:
            finalize_wav_spool(self._out, self._size)
        return tail, self._size

    def close(self) -> None:
        self._encoder.close()


class _M4bBook:
    """AAC in MP4 (`ipod`), its chapters written with the index at the end."""

    def __init__(self, out: BinaryIO) -> None:
        self._container = av.open(out, "w", format="ipod")
        # FFmpeg's fast AAC coder: 1.7 times the default's speed here at the same size (its
        # quality a little lower), as the book is encoded beside the provider speaking.
        stream = self._container.add_stream(
            "aac", rate=OUTPUT_SAMPLE_RATE, options={"aac_coder": "fast"}
        )
        if not isinstance(stream, AudioStream):
            raise TypeError("aac is not an audio codec")
        stream.layout = "mono"
        stream.bit_rate = _BOOK_BIT_RATE
        self._stream = stream
        self._samples = 0
        self._closed = False

    def write(self, pcm: bytes) -> None:
        if not pcm:
            return
        samples = np.frombuffer(pcm, dtype="<i2").reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
        frame.sample_rate = OUTPUT_SAMPLE_RATE
        frame.pts = self._samples
        frame.time_base = Fraction(1, OUTPUT_SAMPLE_RATE)
        self._samples += frame.samples
        self._container.mux(self._stream.encode(frame))

    def finish(self, title: str, marks: list[ChapterMark]) -> None:
        self._container.mux(self._stream.encode(None))
        self._container.metadata["title"] = title
        self._container.set_chapters(
            [
                {
                    "id": number + 1,
                    "start": mark.start,
                    "end": mark.end,
                    "time_base": Fraction(1, OUTPUT_SAMPLE_RATE),
                    "metadata": {"title": mark.title},
                }
                for number, mark in enumerate(marks)
            ]
        )
        self.close()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._container.close()


class _Mp3Book:
    """MP3 frames as they are encoded, then an ID3v2 tag in front: the title, a table of
    contents (CTOC) and a CHAP frame per chapter. mutagen writes the tag; FFmpeg's MP3
    muxer would write chapters only in the header, before they are known."""

    def __init__(self, out: BinaryIO) -> None:
        self._out = out
        self._encoder = open_encoder(AudioFormat.MP3, OUTPUT_SAMPLE_RATE)

    def write(self, pcm: bytes) -> None:
        self._out.write(self._encoder.encode(pcm))

    def finish(self, title: str, marks: list[ChapterMark]) -> None:
        self._out.write(self._encoder.finish())
        self.close()
        ids = [f"chp{number}" for number in range(len(marks))]
        tags = ID3()
        tags.add(TIT2(encoding=3, text=[title]))
        tags.add(
            CTOC(
                element_id="toc",
                flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
                child_element_ids=ids,
                sub_frames=[TIT2(encoding=3, text=[title])],
            )
        )
        for element, mark in zip(ids, marks, strict=True):
            tags.add(
                CHAP(
                    element_id=element,
                    start_time=_millis(mark.start),
                    end_time=_millis(mark.end),
                    sub_frames=[TIT2(encoding=3, text=[mark.title])],
                )
            )
        self._out.seek(0)
        tags.save(self._out)

    def close(self) -> None:
        self._encoder.close()


def _millis(samples: int) -> int:
    return samples * 1000 // OUTPUT_SAMPLE_RATE
