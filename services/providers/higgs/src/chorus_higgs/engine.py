"""Higgs Audio v2 through transformers: scene prompts, cloning, codec frames streamed as made."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from pydantic import BaseModel, ConfigDict, Field
from transformers import HiggsAudioV2ForConditionalGeneration, StoppingCriteriaList

from chorus_contracts import Capabilities, InvalidRequest, SynthesisRequest, UnknownVoice, VoiceInfo
from chorus_higgs.conversation import build_conversation, scene_description
from chorus_higgs.loading import load_processor
from chorus_higgs.settings import HiggsSettings
from chorus_higgs.stepping import HiggsJoining, HiggsMember, HiggsStepper, Sampling
from chorus_provider.extra_params import parse_extra_params
from chorus_torch import (
    Batcher,
    FrameSink,
    Placement,
    SharedDecoder,
    TorchEngine,
    device_turns,
    reference_audio,
)

log = logging.getLogger("chorus.higgs")

# Without a reference Higgs picks a voice that fits the text and the scene ("smart voice").
SMART_VOICE = "smart"


class HiggsExtra(BaseModel):
    """What `extra_params` may tune per request."""

    # Keys for other providers of a fallback chain are not this one's to refuse.
    model_config = ConfigDict(extra="ignore")

    temperature: float | None = Field(default=None, gt=0, le=2)
    top_p: float | None = Field(default=None, gt=0, le=1)
    top_k: int | None = Field(default=None, ge=1, le=1024)


@dataclass(frozen=True)
class _Loaded:
    model: HiggsAudioV2ForConditionalGeneration
    processor: Any  # HiggsAudioV2Processor, untyped upstream
    codec: Any  # HiggsAudioV2TokenizerModel
    placement: Placement
    batcher: Batcher[HiggsMember, HiggsJoining]
    decoder: SharedDecoder


@dataclass(frozen=True)
class _Codec:
    """What capabilities and budgets need to know of the codec, kept while unloaded."""

    sample_rate: int
    frame_rate: float
    num_codebooks: int
    stream_bos: int
    stream_eos: int


class HiggsEngine(TorchEngine[_Loaded]):
    """Concurrent generations share decoding steps; frames leave as the codec decodes them."""

    settings_class = HiggsSettings

    def __init__(self, settings: HiggsSettings) -> None:
        super().__init__(settings)
        self._higgs = settings
        self._codec: _Codec | None = None

    def load_model(self, model_dir: Path, placement: Placement) -> _Loaded:
        processor = load_processor(model_dir, self._higgs.codec_path)
        model = HiggsAudioV2ForConditionalGeneration.from_pretrained(
            model_dir, dtype=placement.dtype
        )
        model = model.to(placement.device).eval()  # type: ignore[arg-type]
        # The codec stays in float32: it is small, and half precision dulls the waveform.
        codec = processor.audio_tokenizer.to(placement.device).eval()
        self._codec = _Codec(
            sample_rate=int(codec.config.sample_rate),
            frame_rate=float(codec.config.frame_rate),
            num_codebooks=int(model.config.num_codebooks),
            stream_bos=int(model.config.audio_stream_bos_id),
            stream_eos=int(model.config.audio_stream_eos_id),
        )
        log.info(
            "higgs loaded from %s on %s (%s), %d codebooks at %.0f frames/s",
            model_dir,
            placement.device,
            placement.dtype,
            self._codec.num_codebooks,
            self._codec.frame_rate,
        )
        stepper = HiggsStepper(
            model,
            lambda request: self._prompt(processor, placement, request),
            self._sampling,
        )
        turns = device_turns(placement)
        batcher = Batcher(
            stepper,
            self._higgs.max_concurrency,
            self._higgs.max_queue,
            placement.device,
            turns=turns,
        )
        decoder = SharedDecoder(lambda frames: _decode_many(codec, placement, frames), turns)
        self.warm_decoder(decoder, self._codec.num_codebooks, placement.device)
        return _Loaded(model, processor, codec, placement, batcher, decoder)

    def _known_codec(self) -> _Codec:
        if self._codec is None:
            raise RuntimeError("HiggsEngine used before load()")
        return self._codec

    def capabilities(self) -> Capabilities:
        codec = self._known_codec()
        return Capabilities(
            provider=self._higgs.name,
            engine="higgs-audio-v2",
            models=self._higgs.models,
            voices=[VoiceInfo(id=SMART_VOICE, name="Smart voice (chosen by the model)")],
            languages=self._higgs.languages,
            sample_rate=codec.sample_rate,
            max_text_length=self._higgs.max_text_length,
            streaming=True,
            voice_cloning=True,
            instructions=True,
            speed_range=(1.0, 1.0),
        )

    def check(self, request: SynthesisRequest) -> None:
        if request.voice != SMART_VOICE and request.voice_reference is None:
            raise UnknownVoice(
                f"Higgs has no voice '{request.voice}'; use '{SMART_VOICE}' or send a "
                "voice_reference",
                param="voice",
            )
        if request.speed != 1.0:
            raise InvalidRequest("Higgs speaks at its own pace; speed must be 1.0", param="speed")
        if request.language and _primary(request.language) not in self._higgs.languages:
            raise InvalidRequest(
                f"Higgs here speaks {', '.join(self._higgs.languages)}; not '{request.language}'",
                param="lang_code",
            )
        scene_description(request, self._higgs)
        parse_extra_params(HiggsExtra, request.extra)
        if request.voice_reference_text and request.voice_reference is None:
            raise InvalidRequest(
                "voice_reference_text is what voice_reference says; send the reference too",
                param="voice_reference_text",
            )

    def generate(
        self, model: _Loaded, request: SynthesisRequest, sink: FrameSink, stop: StoppingCriteriaList
    ) -> None:
        member = model.batcher.run(request, sink.put, stop, self._higgs.seed)
        log.info(
            "higgs generated %d frames (%s)",
            member.steps,
            "to its end of audio" if member.ended else "stopped by the budget or a cancel",
        )

    def _prompt(
        self, processor: Any, placement: Placement, request: SynthesisRequest
    ) -> Mapping[str, torch.Tensor]:
        codec = self._known_codec()
        reference = (
            reference_audio(request.voice_reference, codec.sample_rate, self._higgs.max_reference_s)
            if request.voice_reference is not None
            else None
        )
        conversation = build_conversation(request, self._higgs, reference)
        inputs: Mapping[str, torch.Tensor] = processor.apply_chat_template(
            conversation,
            add_generation_prompt=True,
            tokenize=True,
            return_dict=True,
            processor_kwargs={"sampling_rate": codec.sample_rate},
            return_tensors="pt",
        ).to(placement.device)
        return inputs

    def decode(self, model: _Loaded, frames: torch.Tensor) -> npt.NDArray[np.floating]:
        return model.decoder.decode(frames)

    async def decode_window(self, model: _Loaded, frames: torch.Tensor) -> npt.NDArray[np.floating]:
        return await model.decoder.decode_soon(frames, self.executor)

    def _sampling(self, request: SynthesisRequest) -> Sampling:
        codec = self._known_codec()
        extra = parse_extra_params(HiggsExtra, request.extra)
        seconds = min(
            self._higgs.max_audio_s, 1.0 + len(request.text) * self._higgs.seconds_per_char
        )
        return Sampling(
            temperature=extra.temperature or self._higgs.temperature,
            top_p=extra.top_p or self._higgs.top_p,
            top_k=extra.top_k or self._higgs.top_k,
            ras_window=self._higgs.ras_window,
            ras_max_repeat=self._higgs.ras_max_repeat,
            # The codebooks' delay adds K - 1 frames after the last aligned one.
            max_steps=math.ceil(seconds * codec.frame_rate) + codec.num_codebooks,
        )


def _decode_many(
    codec: Any, placement: Placement, frames: torch.Tensor
) -> npt.NDArray[np.floating]:
    """Windows of codec frames (windows, frames, codebooks) to their waveforms, one call."""
    codes = frames.to(placement.device).transpose(1, 2)  # (windows, codebooks, frames)
    wave = codec.decode(codes).audio_values
    return np.asarray(wave.float().cpu().numpy()).reshape(codes.shape[0], -1)


def _primary(language: str) -> str:
    return language.replace("_", "-").split("-")[0].lower()
