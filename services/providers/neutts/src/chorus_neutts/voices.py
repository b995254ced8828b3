"""Voices NeuTTS speaks in: built-in samples (codes + transcript) and inline references."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from chorus_contracts import MAX_REFERENCE_TEXT_CHARS, InvalidRequest, VoiceInfo
from chorus_torch import reference_audio

REFERENCE_RATE = 16_000  # NeuCodec encodes 16 kHz audio


@dataclass(frozen=True)
class Voice:
    """A speaker prompt: NeuCodec codes of a sample and the words the sample says."""

    codes: list[int]
    transcript: str


def packaged_samples_dir() -> Path:
    """The reference samples shipped inside the neutts wheel (pre-encoded codes + text)."""
    import neutts

    return Path(neutts.__file__).parent / "samples"


def load_builtin(directory: Path, encode: Callable[[bytes], list[int]]) -> dict[str, Voice]:
    """`<name>.pt` (codes) or `<name>.wav` (encoded now with `encode`) next to `<name>.txt`."""
    import torch

    voices: dict[str, Voice] = {}
    for transcript_file in sorted(directory.glob("*.txt")):
        name = transcript_file.stem
        transcript = transcript_file.read_text(encoding="utf-8").strip()
        codes_file, wav_file = directory / f"{name}.pt", directory / f"{name}.wav"
        if codes_file.exists():
            stored = torch.load(codes_file, map_location="cpu", weights_only=True)
            codes = [int(c) for c in stored.reshape(-1).tolist()]
        elif wav_file.exists():
            codes = encode(wav_file.read_bytes())
        else:
            continue
        voices[name] = Voice(codes=codes, transcript=transcript)
    return voices


def decoded_wav(wav: bytes) -> npt.NDArray[np.float32]:
    """A voice file as the codec takes it, through the same decoder as inline references."""
    return reference_audio(base64.b64encode(wav).decode("ascii"), REFERENCE_RATE, 60.0)


def describe(voices: dict[str, Voice]) -> list[VoiceInfo]:
    return [VoiceInfo(id=name, name=name.capitalize()) for name in voices]


def reference_transcript(text: str | None) -> str:
    """NeuTTS conditions on what the reference says; without it, cloning cannot work."""
    if text is None or not text.strip():
        raise InvalidRequest(
            "NeuTTS clones a voice from a sample and its transcript: give "
            "voice_reference_text, the words spoken in voice_reference",
            param="voice_reference_text",
        )
    if len(text) > MAX_REFERENCE_TEXT_CHARS:
        raise InvalidRequest(
            f"voice_reference_text is {len(text)} characters; at most {MAX_REFERENCE_TEXT_CHARS}",
            param="voice_reference_text",
        )
    return " ".join(text.split())
