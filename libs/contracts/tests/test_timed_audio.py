from __future__ import annotations

import pytest

from chorus_contracts import (
    FrameError,
    FrameReader,
    MarkTimestamp,
    WordTimestamp,
    audio_frame,
    marks_frame,
    words_frame,
)

WORDS = [WordTimestamp(word="Hello", start_time=0.1, end_time=0.4)]


def test_frames_survive_any_chunking_of_the_body() -> None:
    body = words_frame(WORDS) + audio_frame(b"\x01\x02" * 500) + audio_frame(b"\x03\x04")
    for size in (1, 3, 7, 1000, len(body)):
        reader = FrameReader()
        frames = [f for at in range(0, len(body), size) for f in reader.feed(body[at : at + size])]
        reader.finish()
        assert [f.kind for f in frames] == ["words", "audio", "audio"]
        assert list(frames[0].words) == WORDS
        assert b"".join(f.audio for f in frames) == b"\x01\x02" * 500 + b"\x03\x04"


def test_a_broken_body_is_refused() -> None:
    with pytest.raises(FrameError):
        list(FrameReader().feed(b"X\x00\x00\x00\x01z"))
    reader = FrameReader()
    list(reader.feed(audio_frame(b"abcd")[:-1]))
    with pytest.raises(FrameError):
        reader.finish()


def test_marks_travel_in_their_own_frames_between_words_and_audio() -> None:
    marks = [MarkTimestamp(name="chapter-2", time=1.25)]
    body = words_frame(WORDS) + marks_frame(marks) + audio_frame(b"\x01\x02")
    frames = list(FrameReader().feed(body))
    assert [f.kind for f in frames] == ["words", "marks", "audio"]
    assert list(frames[1].marks) == marks
