"""Captions of word timings with SSML marks: a mark starts a cue where it falls."""

from __future__ import annotations

from chorus_contracts import MarkTimestamp, WordTimestamp
from chorus_router.speech.captions import srt, webvtt


def _words(*timed: tuple[str, float, float]) -> list[WordTimestamp]:
    return [WordTimestamp(word=w, start_time=s, end_time=e) for w, s, e in timed]


WORDS = _words(("One", 0.1, 0.3), ("two", 0.35, 0.6), ("three", 0.65, 0.9), ("four", 0.95, 1.2))


def test_a_mark_names_the_cue_that_starts_where_it_falls() -> None:
    marks = [MarkTimestamp(name="middle", time=0.65)]
    assert webvtt(WORDS, marks) == (
        "WEBVTT\n\n"
        "00:00:00.100 --> 00:00:00.600\nOne two\n\n"
        "middle\n00:00:00.650 --> 00:00:01.200\nthree four\n"
    )


def test_marks_before_the_first_word_and_after_the_last_are_kept() -> None:
    marks = [
        MarkTimestamp(name="start", time=0.0),
        MarkTimestamp(name="end\nof --> text", time=1.2),
    ]
    vtt = webvtt(WORDS, marks)
    assert vtt.startswith("WEBVTT\n\nstart\n00:00:00.100 --> 00:00:01.200\nOne two three four\n")
    # A name cannot break the file: no line break, no timing arrow.
    assert vtt.endswith("NOTE mark end of text at 00:00:01.200\n")


def test_srt_cues_start_at_marks_without_their_names() -> None:
    marks = [MarkTimestamp(name="middle", time=0.65)]
    assert srt(WORDS, marks) == (
        "1\n00:00:00,100 --> 00:00:00,600\nOne two\n\n"
        "2\n00:00:00,650 --> 00:00:01,200\nthree four\n"
    )
