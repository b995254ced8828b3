"""Word timings as caption files: WebVTT and SRT cues of a few words each."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from chorus_contracts import WordTimestamp

# A cue holds at most this many words or seconds, and ends where the speaker pauses.
_CUE_WORDS = 7
_CUE_SECONDS = 3.5
_PAUSE_S = 0.5


def webvtt(words: Sequence[WordTimestamp]) -> str:
    lines = ["WEBVTT", ""]
    for cue in _cues(words):
        lines += [f"{_clock(cue[0].start_time, '.')} --> {_clock(cue[-1].end_time, '.')}"]
        lines += [" ".join(w.word for w in cue), ""]
    return "\n".join(lines)


def srt(words: Sequence[WordTimestamp]) -> str:
    lines = []
    for number, cue in enumerate(_cues(words), start=1):
        lines += [str(number)]
        lines += [f"{_clock(cue[0].start_time, ',')} --> {_clock(cue[-1].end_time, ',')}"]
        lines += [" ".join(w.word for w in cue), ""]
    return "\n".join(lines)


def _cues(words: Sequence[WordTimestamp]) -> Iterator[list[WordTimestamp]]:
    cue: list[WordTimestamp] = []
    for word in words:
        if cue and (
            len(cue) >= _CUE_WORDS
            or word.end_time - cue[0].start_time > _CUE_SECONDS
            or word.start_time - cue[-1].end_time > _PAUSE_S
        ):
            yield cue
            cue = []
        cue.append(word)
    if cue:
        yield cue


def _clock(seconds: float, decimal_mark: str) -> str:
    """ "00:01:02.345" (WebVTT) or "00:01:02,345" (SRT)."""
    millis = max(0, round(seconds * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{decimal_mark}{millis:03d}"
