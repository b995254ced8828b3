"""VibeVoice through transformers: multi-speaker scripts, cloned voices, audio as it diffuses.

Speakers: the text is a script of `Speaker N: ...` lines (see `script.py`). Voices:
`voice_reference` is the lowest-numbered speaker's; `extra_params.speaker_references`
maps other speakers' numbers (as strings) to base64 WAVs. A speaker without a reference
gets a voice the model picks.
"""

from __future__ import annotations

import copy
import logging
import math
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from pydantic import BaseModel, ConfigDict, Field
from transformers import (
    AutoProcessor,
    GenerationConfig,
    StoppingCriteriaList,
    VibeVoiceForConditionalGeneration,
)

from chorus_contracts import Capabilities, InvalidRequest, SynthesisRequest, UnknownVoice, VoiceInfo
from chorus_provider.extra_params import parse_extra_params
from chorus_torch import FrameSink, Placement, TorchEngine, reference_audio
from chorus_vibevoice.script import Script, parse_script
from chorus_vibevoice.settings import VibeVoiceSettings

log = logging.getLogger("chorus.vibevoice")

# Without references VibeVoice picks each speaker's voice itself.
SMART_VOICE = "smart"


class VibeVoiceExtra(BaseModel):
    """What `extra_params` may set per request."""

    # Keys for other providers of a fallback chain are not this one's to refuse.
    model_config = ConfigDict(extra="ignore")

    # Speaker number as written in the text ("2") -> base64 WAV of that speaker's voice.
    speaker_references: dict[str, str] = Field(default_factory=dict, max_length=16)
    diffusion_steps: int | None = Field(default=None, ge=1, le=100)
    guidance_scale: float | None = Field(default=None, ge=1.0, le=10)


@dataclass(frozen=True)
class _Loaded:
    model: VibeVoiceForConditionalGeneration
    processor: Any  # VibeVoiceProcessor, untyped upstream
    placement: Placement


@dataclass(frozen=True)
class _Audio:
    """What capabilities and budgets need to know of the codec, kept while unloaded."""

    sample_rate: int
    samples_per_frame: int

    @property
    def frame_rate(self) -> float:
        return self.sample_rate / self.samples_per_frame


class VibeVoiceEngine(TorchEngine[_Loaded]):
    """One generation per slot; each diffused frame leaves as audio within a window."""

    settings_class = VibeVoiceSettings

    def __init__(self, settings: VibeVoiceSettings) -> None:
        super().__init__(settings)
        self._vibe = settings
        self._audio: _Audio | None = None

    def load_model(self, model_dir: Path, placement: Placement) -> _Loaded:
        processor = AutoProcessor.from_pretrained(model_dir)  # type: ignore[no-untyped-call]
        model = VibeVoiceForConditionalGeneration.from_pretrained(model_dir, dtype=placement.dtype)
        model = model.to(placement.device).eval()  # type: ignore[arg-type]
        sample_rate = int(processor.feature_extractor.sampling_rate)
        self._audio = _Audio(sample_rate, int(model.config.audio_config.hop_length))
        log.info(
            "vibevoice loaded from %s on %s (%s), %.1f frames/s",
            model_dir,
            placement.device,
            placement.dtype,
            self._audio.frame_rate,
        )
        return _Loaded(model, processor, placement)

    def _known_audio(self) -> _Audio:
        if self._audio is None:
            raise RuntimeError("VibeVoiceEngine used before load()")
        return self._audio

    def capabilities(self) -> Capabilities:
        return Capabilities(
            provider=self._vibe.name,
            engine="vibevoice",
            models=self._vibe.models,
            voices=[VoiceInfo(id=SMART_VOICE, name="Smart voices (chosen by the model)")],
            languages=self._vibe.languages,
            sample_rate=self._known_audio().sample_rate,
            max_text_length=self._vibe.max_text_length,
            streaming=True,
            voice_cloning=True,
            speed_range=(1.0, 1.0),
        )

    def check(self, request: SynthesisRequest) -> None:
        if request.voice != SMART_VOICE and request.voice_reference is None:
            raise UnknownVoice(
                f"VibeVoice has no voice '{request.voice}'; use '{SMART_VOICE}' or send a "
                "voice_reference",
                param="voice",
            )
        if request.speed != 1.0:
            raise InvalidRequest(
                "VibeVoice speaks at its own pace; speed must be 1.0", param="speed"
            )
        language = (request.language or "").replace("_", "-").split("-")[0].lower()
        if language and language not in self._vibe.languages:
            raise InvalidRequest(
                f"VibeVoice here speaks {', '.join(self._vibe.languages)}; "
                f"not '{request.language}'",
                param="lang_code",
            )
        self._references(request, parse_script(request.text, self._vibe.max_speakers), decode=False)

    def generate(
        self, model: _Loaded, request: SynthesisRequest, sink: FrameSink, stop: StoppingCriteriaList
    ) -> None:
        script = parse_script(request.text, self._vibe.max_speakers)
        references = self._references(request, script, decode=True)
        cloned = len(references)
        # A speaker's reference goes with their first turn, as the chat template expects.
        conversation = []
        for turn in script.turns:
            content: list[dict[str, Any]] = [{"type": "text", "text": turn.text}]
            if turn.speaker in references:
                content.append({"type": "audio", "audio": references.pop(turn.speaker)})
            conversation.append({"role": script.role(turn.speaker), "content": content})
        inputs = model.processor.apply_chat_template(
            conversation, tokenize=True, return_dict=True, return_tensors="pt"
        ).to(model.placement.device, model.placement.dtype)
        frames, samples = 0, 0

        def on_audio(audio: torch.Tensor) -> None:
            nonlocal frames, samples
            frames, samples = frames + 1, samples + audio.shape[-1]
            sink.put(audio)

        with _audio_made(model.model, on_audio):
            (made,) = model.model.generate(
                **inputs,
                generation_config=self._generation_config(model, request),
                stopping_criteria=stop,
            )
        # Whatever the returned audio holds beyond what was seen while generating (nothing,
        # as transformers implements VibeVoice today) still goes out, after the rest.
        if made is not None and made.shape[-1] > samples:
            hop = self._known_audio().samples_per_frame
            sink.put(made.reshape(-1)[samples:].reshape(-1, hop))
        log.info(
            "vibevoice generated %d frames for %d speakers (%d cloned)",
            frames,
            len(script.speakers),
            cloned,
        )

    def decode(self, model: _Loaded, frames: torch.Tensor) -> npt.NDArray[np.floating]:
        """Frames are already waveform: (frames, samples per frame)."""
        return np.asarray(frames.float().numpy()).reshape(-1)

    def _references(
        self, request: SynthesisRequest, script: Script, *, decode: bool
    ) -> dict[int, Any]:
        """Speaker number -> reference waveform (or the base64, when only checking)."""
        extra = parse_extra_params(VibeVoiceExtra, request.extra)
        encoded: dict[int, str] = {}
        if request.voice_reference is not None:
            encoded[script.speakers[0]] = request.voice_reference
        for key, value in extra.speaker_references.items():
            speaker = int(key) if key.isdigit() else None
            if speaker is None or speaker not in script.speakers:
                raise InvalidRequest(
                    f"extra_params.speaker_references: '{key}' is not a speaker of the text "
                    f"(speakers: {', '.join(map(str, script.speakers))})",
                    param="extra_params",
                )
            if speaker in encoded:
                raise InvalidRequest(
                    f"speaker {speaker} has two references (voice_reference is speaker "
                    f"{script.speakers[0]}'s)",
                    param="extra_params",
                )
            encoded[speaker] = value
        if not decode:
            return dict(encoded)
        rate, longest = self._known_audio().sample_rate, self._vibe.max_reference_s
        return {speaker: reference_audio(wav, rate, longest) for speaker, wav in encoded.items()}

    def _generation_config(self, model: _Loaded, request: SynthesisRequest) -> GenerationConfig:
        extra = parse_extra_params(VibeVoiceExtra, request.extra)
        seconds = min(self._vibe.max_audio_s, 1.0 + len(request.text) * self._vibe.seconds_per_char)
        # A fresh copy per request: the noise scheduler it builds keeps per-generation state.
        config = copy.deepcopy(model.model.generation_config)
        setattr(config, "noise_scheduler", None)  # noqa: B010 - VibeVoice's own fields
        config.update(  # type: ignore[no-untyped-call]
            max_new_tokens=math.ceil(seconds * self._known_audio().frame_rate) + 2,
            guidance_scale=extra.guidance_scale or self._vibe.guidance_scale,
        )
        steps = extra.diffusion_steps or self._vibe.diffusion_steps
        setattr(config, "num_diffusion_steps", steps)  # noqa: B010
        return config


@contextmanager
def _audio_made(
    model: VibeVoiceForConditionalGeneration, on_audio: Callable[[torch.Tensor], None]
) -> Iterator[None]:
    """Calls `on_audio` with each frame's waveform (1, samples) as generation decodes it.

    VibeVoice's `generate` returns its audio only at the end; every diffused frame it
    decodes goes straight into the semantic encoder to condition the next step, so that
    encoder's input is the audio made so far, one frame at a time. Only calls from the
    thread that entered count, so concurrent generations never see each other's audio.
    """
    thread = threading.get_ident()

    def hook(_: torch.nn.Module, args: tuple[Any, ...]) -> None:
        if threading.get_ident() == thread:
            on_audio(args[0][0].reshape(1, -1))

    handle = model.model.semantic_tokenizer_encoder.register_forward_pre_hook(hook)
    try:
        yield
    finally:
        handle.remove()
