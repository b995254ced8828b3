"""libespeak-ng in-process, for what the command line cannot give: word events.

espeak-ng reports each word as an event with its position in the text and in the audio.
The library keeps global state (one voice, one callback), so one synthesis runs at a time.
"""

from __future__ import annotations

import bisect
import ctypes
import ctypes.util
import functools
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass

from chorus_contracts import UpstreamError, WordTimestamp
from chorus_espeak.emphasis import EspeakInput

_SYNCHRONOUS = 2  # AUDIO_OUTPUT_SYNCHRONOUS: espeak_Synth returns when all audio is made
_CHARS_UTF8 = 1
_SSML = 0x10  # espeakSSML: the text is espeak-ng's SSML
_POS_CHARACTER = 1
_RATE = 1  # espeakRATE, words per minute
_PITCH = 3  # espeakPITCH, 0-100
_EVENT_END_OF_LIST, _EVENT_WORD, _EVENT_SENTENCE, _EVENT_END = 0, 1, 2, 5
_MSG_TERMINATED = 6


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    """espeak_EVENT from speak_lib.h."""

    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    ]


_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)


@dataclass
class _Take:
    """What one synthesis collects from the callback."""

    pcm: bytearray
    # (text position, length in characters, audio position in ms) per word
    words: list[tuple[int, int, int]]
    # audio positions (ms) where sentences and clauses end
    ends: list[int]
    stop: Callable[[], bool]


@functools.cache
def shared_library() -> EspeakLibrary:
    """The one library of this process: espeak-ng's state (and its callback) is global."""
    return EspeakLibrary()


class EspeakLibrary:
    """The loaded library; `speak` returns PCM and the word timings of one text."""

    def __init__(self) -> None:
        path = ctypes.util.find_library("espeak-ng") or "libespeak-ng.so.1"
        self._lib = ctypes.CDLL(path)
        self._lib.espeak_Synth.argtypes = [
            ctypes.c_void_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        self._lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        self.sample_rate = int(self._lib.espeak_Initialize(_SYNCHRONOUS, 0, None, 0))
        if self.sample_rate <= 0:
            raise RuntimeError(f"libespeak-ng failed to initialize ({self.sample_rate})")
        self._lock = threading.Lock()
        self._take: _Take | None = None
        # Kept referenced: the library calls it for as long as it is loaded.
        self._callback = _CALLBACK(self._on_audio)
        self._lib.espeak_SetSynthCallback(self._callback)

    def speak(
        self,
        spoken: EspeakInput,
        voice: str,
        words_per_minute: int,
        pitch: int,
        stop: Callable[[], bool],
    ) -> tuple[bytes, list[WordTimestamp]]:
        """PCM at `sample_rate` and each word's time, from espeak-ng's own events; `stop`
        returning true aborts the synthesis at the next callback."""
        encoded = spoken.text.encode("utf-8")
        flags = _CHARS_UTF8 | (_SSML if spoken.ssml else 0)
        with self._lock:
            if self._lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise UpstreamError(f"espeak-ng library has no voice '{voice}'")
            self._lib.espeak_SetParameter(_RATE, words_per_minute, 0)
            self._lib.espeak_SetParameter(_PITCH, pitch, 0)
            self._take = take = _Take(bytearray(), [], [], stop)
            try:
                status = self._lib.espeak_Synth(
                    encoded, len(encoded) + 1, 0, _POS_CHARACTER, 0, flags, None, None
                )
            finally:
                self._take = None
        if status != 0:
            raise UpstreamError(f"espeak-ng library failed to speak ({status})")
        seconds = len(take.pcm) / 2 / self.sample_rate
        return bytes(take.pcm), _timestamps(spoken, take, seconds)

    def _on_audio(
        self, wav: ctypes._Pointer[ctypes.c_short], count: int, events: ctypes._Pointer[_Event]
    ) -> int:
        take = self._take
        if take is None or take.stop():
            return 1
        if count > 0 and wav:
            take.pcm += ctypes.string_at(wav, count * 2)
        index = 0
        while events[index].type != _EVENT_END_OF_LIST:
            event = events[index]
            if event.type == _EVENT_WORD:
                take.words.append((event.text_position, event.length, event.audio_position))
            elif event.type in (_EVENT_SENTENCE, _EVENT_END, _MSG_TERMINATED):
                take.ends.append(event.audio_position)
            index += 1
        return 0


def _timestamps(spoken: EspeakInput, take: _Take, seconds: float) -> list[WordTimestamp]:
    """One entry per word of the text (espeak-ng may report two events inside one, as for
    "o'clock"): from its first event until the next word's, or until its clause ends."""
    tokens = [(m.start(), m.group(0)) for m in re.finditer(r"\S+", spoken.piece)]
    starts: dict[int, int] = {}
    for position, _, at_ms in take.words:
        token = bisect.bisect_right([start for start, _ in tokens], position - 1 - spoken.shift) - 1
        if token >= 0:
            starts.setdefault(token, at_ms)
    ordered = sorted(starts.items())
    stamps = []
    for i, (token, at_ms) in enumerate(ordered):
        word = tokens[token][1].strip(".,;:!?\"'()«»“”‘’")
        following = [ms for ms in take.ends if ms > at_ms]
        if i + 1 < len(ordered):
            following.append(ordered[i + 1][1])
        end_s = min(min(following) / 1000 if following else seconds, seconds)
        if word:
            stamps.append(WordTimestamp(word=word, start_time=at_ms / 1000, end_time=end_s))
    return stamps
