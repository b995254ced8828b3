"""Real speech for the fakes to stream: espeak-ng, resampled to the rate the client asked."""

from __future__ import annotations

import subprocess

from chorus_audio import Resampler

ESPEAK_RATE = 22_050
_VARIANTS = ("f1", "m3", "f3", "m1", "f4", "m7", "f2", "m2", "f5", "m4")


def speak(text: str, rate: int, voice: str, speed: float = 1.0, language: str = "en-us") -> bytes:
    """s16le mono PCM at `rate`; each vendor voice gets its own espeak-ng variant."""
    variant = _VARIANTS[sum(voice.encode()) % len(_VARIANTS)]
    wpm = min(450, max(80, round(175 * speed)))
    wav = subprocess.run(
        ["espeak-ng", "--stdout", "-v", f"{language}+{variant}", "-s", str(wpm)],
        input=text.encode(),
        capture_output=True,
        check=True,
        timeout=30,
    ).stdout
    pcm = wav[wav.find(b"data", 12) + 8 :]
    pcm = pcm[: len(pcm) - len(pcm) % 2]
    resampler = Resampler(ESPEAK_RATE, rate)
    return resampler.process(pcm) + resampler.flush()
