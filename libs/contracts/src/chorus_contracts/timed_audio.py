"""Word timings alongside audio: the provider contract's opt-in framed body.

A synthesis request with `timestamps: true`, sent to a provider whose capabilities say
`timestamps: "word"`, is answered with `Content-Type: application/vnd.chorus.timed-audio`
instead of raw PCM. The body is a sequence of frames, each a kind byte, a 4-byte big-endian
payload length and the payload: `A` frames carry PCM (as the plain body would), `W` frames a
JSON list of word timings in seconds from the start of the stream's audio, `M` frames a JSON
list of the SSML `<mark>`s reached (name and time, as words are timed). A `W` or `M` frame
comes before the audio it describes, so a client can show a word as it is heard. `M` frames
are sent only for a request whose segments carry marks.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, TypeAdapter

TIMED_AUDIO_CONTENT_TYPE = "application/vnd.chorus.timed-audio"
AUDIO_FRAME, WORDS_FRAME, MARKS_FRAME = b"A", b"W", b"M"
_HEADER = struct.Struct(">cI")
# A frame is at most a few seconds of audio or one piece's words; anything larger is broken.
MAX_FRAME_BYTES = 16 * 1024 * 1024


class WordTimestamp(BaseModel):
    """When one word is heard, in seconds from the start of the audio (Kokoro-FastAPI's)."""

    word: str
    start_time: float
    end_time: float


class MarkTimestamp(BaseModel):
    """When an SSML `<mark name>` is reached: the time its next words start (seconds from
    the start of the audio), or the audio's end when no words follow it."""

    name: str
    time: float


_WORDS = TypeAdapter(list[WordTimestamp])
_MARKS = TypeAdapter(list[MarkTimestamp])


def audio_frame(pcm: bytes) -> bytes:
    return _HEADER.pack(AUDIO_FRAME, len(pcm)) + pcm


def words_frame(words: list[WordTimestamp]) -> bytes:
    payload = json.dumps([w.model_dump() for w in words]).encode()
    return _HEADER.pack(WORDS_FRAME, len(payload)) + payload


def marks_frame(marks: list[MarkTimestamp]) -> bytes:
    payload = json.dumps([m.model_dump() for m in marks]).encode()
    return _HEADER.pack(MARKS_FRAME, len(payload)) + payload


@dataclass(frozen=True)
class Frame:
    kind: Literal["audio", "words", "marks"]
    audio: bytes = b""
    words: tuple[WordTimestamp, ...] = ()
    marks: tuple[MarkTimestamp, ...] = ()


class FrameError(ValueError):
    """The framed body is not in the contract's shape."""


class FrameReader:
    """Parses frames out of a body that arrives in chunks of any size."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> Iterator[Frame]:
        """The frames completed by `data`, in order."""
        self._buffer += data
        while len(self._buffer) >= _HEADER.size:
            kind, length = _HEADER.unpack_from(self._buffer)
            if length > MAX_FRAME_BYTES or kind not in (AUDIO_FRAME, WORDS_FRAME, MARKS_FRAME):
                raise FrameError(f"bad frame header (kind {kind!r}, {length} bytes)")
            end = _HEADER.size + length
            if len(self._buffer) < end:
                return
            payload = bytes(self._buffer[_HEADER.size : end])
            del self._buffer[:end]
            if kind == AUDIO_FRAME:
                yield Frame("audio", audio=payload)
            elif kind == WORDS_FRAME:
                yield Frame("words", words=tuple(_WORDS.validate_json(payload)))
            else:
                yield Frame("marks", marks=tuple(_MARKS.validate_json(payload)))

    def finish(self) -> None:
        """Raise if the body ended inside a frame."""
        if self._buffer:
            raise FrameError(f"body ended inside a frame ({len(self._buffer)} bytes left)")
