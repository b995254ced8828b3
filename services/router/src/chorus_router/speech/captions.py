"""Word timings as caption files: WebVTT and SRT cues of a few words each.

An SSML `<mark>` starts a cue where it falls. In WebVTT that cue carries the mark's name as
its identifier (a player's `TextTrackCue.id`), so an application hears of the mark when the
cue begins; marks after the last word are kept in a NOTE block with their time. SRT has no
place for a name: its cues only start at the mark.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from chorus_contracts import MarkTimestamp, WordTimestamp

# A cue holds at most this many words or seconds, and ends where the speaker pauses.
_CUE_WORDS = 7
_CUE_SECONDS = 3.5
_PAUSE_S = 0.5
# Words and marks are timed to the millisecond: a mark this close before a word falls at it.
_SAME_TIME_S = 0.001


@dataclass
class _Cue:
    words: list[WordTimestamp] = field(default_factory=list)
    marks: list[str] = field(default_factory=list)

    def timing(self, decimal_mark: str) -> str:
        """The cue's timing line, from its first word's start to its last word's end."""
        start, end = self.words[0].start_time, self.words[-1].end_time
        return f"{_clock(start, decimal_mark)} --> {_clock(end, decimal_mark)}"


def webvtt(words: Sequence[WordTimestamp], marks: Sequence[MarkTimestamp] = ()) -> str:
    lines = ["WEBVTT", ""]
    cues, after = _cues(words, marks)
    for cue in cues:
        if cue.marks:
            lines += [" ".join(_one_line(name) for name in cue.marks)]
        lines += [cue.timing(".")]
        lines += [" ".join(w.word for w in cue.words), ""]
    for mark in after:
        lines += [f"NOTE mark {_one_line(mark.name)} at {_clock(mark.time, '.')}", ""]
    return "\n".join(lines)


def srt(words: Sequence[WordTimestamp], marks: Sequence[MarkTimestamp] = ()) -> str:
    lines = []
    for number, cue in enumerate(_cues(words, marks)[0], start=1):
        lines += [str(number)]
        lines += [cue.timing(",")]
        lines += [" ".join(w.word for w in cue.words), ""]
    return "\n".join(lines)


def _cues(
    words: Sequence[WordTimestamp], marks: Sequence[MarkTimestamp]
) -> tuple[list[_Cue], list[MarkTimestamp]]:
    """The cues, each started by its marks if any, and the marks no word follows."""
    pending = sorted(marks, key=lambda m: m.time)
    cues: list[_Cue] = []
    cue = _Cue()
    for word in words:
        reached = [m.name for m in pending if m.time <= word.start_time + _SAME_TIME_S]
        pending = pending[len(reached) :]
        if cue.words and (reached or _full(cue.words, word)):
            cues.append(cue)
            cue = _Cue()
        cue.words.append(word)
        cue.marks += reached
    if cue.words:
        cues.append(cue)
    return cues, pending


def _full(cue: list[WordTimestamp], word: WordTimestamp) -> bool:
    """Whether `word` starts the next cue: this one is long enough, or a pause comes first."""
    return (
        len(cue) >= _CUE_WORDS
        or word.end_time - cue[0].start_time > _CUE_SECONDS
        or word.start_time - cue[-1].end_time > _PAUSE_S
    )


def _one_line(name: str) -> str:
    """A mark's name as WebVTT can hold it on an identifier or NOTE line: no line break,
    no timing arrow."""
    return " ".join(name.replace("-->", " ").split()) or "-"


def _clock(seconds: float, decimal_mark: str) -> str:
    """ "00:01:02.345" (WebVTT) or "00:01:02,345" (SRT)."""
    millis = max(0, round(seconds * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{decimal_mark}{millis:03d}"
