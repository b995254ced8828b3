"""The synthesis response body: plain PCM, or timed-audio frames when word timings are asked."""

from __future__ import annotations

from chorus_contracts import MarkTimestamp, WordTimestamp, audio_frame, marks_frame, words_frame
from chorus_provider.engine import Words


class BodyWriter:
    """Turns what an engine yields into body bytes, keeping count of the audio so far.

    Engines time words (and place marks) from the start of the audio they yield next; the
    body times them from the start of the whole stream, so a caption lines up with the
    audio the client plays.
    """

    def __init__(self, *, timed: bool, sample_rate: int) -> None:
        self._timed = timed
        self._bytes_per_second = 2 * sample_rate
        self.audio_bytes = 0

    def write(self, item: bytes | Words) -> bytes:
        if isinstance(item, Words):
            return self._words(item) if self._timed else b""
        self.audio_bytes += len(item)
        return audio_frame(item) if self._timed else item

    def _words(self, item: Words) -> bytes:
        offset = self.audio_bytes / self._bytes_per_second
        shifted = [
            WordTimestamp(
                word=w.word,
                start_time=round(w.start_time + offset, 3),
                end_time=round(w.end_time + offset, 3),
            )
            for w in item.words
        ]
        marks = [MarkTimestamp(name=name, time=round(offset, 3)) for name in item.marks]
        return (words_frame(shifted) if shifted else b"") + (marks_frame(marks) if marks else b"")
