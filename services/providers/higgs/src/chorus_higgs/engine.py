"""Higgs Audio v2 through transformers: scene prompts, cloning, codec frames streamed as made."""

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
    GenerationConfig,
    HiggsAudioV2ForConditionalGeneration,
    StoppingCriteriaList,
)

from chorus_contracts import Capabilities, InvalidRequest, SynthesisRequest, UnknownVoice, VoiceInfo
from chorus_higgs.conversation import build_conversation, scene_description
from chorus_higgs.delay import DelayPatternReverter
from chorus_higgs.loading import load_processor
from chorus_higgs.settings import HiggsSettings
from chorus_provider.extra_params import parse_extra_params
from chorus_torch import FrameSink, Placement, TorchEngine, reference_audio

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


@dataclass(frozen=True)
class _Codec:
    """What capabilities and budgets need to know of the codec, kept while unloaded."""

    sample_rate: int
    frame_rate: float
    num_codebooks: int
    stream_bos: int
    stream_eos: int


class HiggsEngine(TorchEngine[_Loaded]):
    """One generation per slot; frames leave as the codec decodes windows of them."""

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
        return _Loaded(model, processor, codec, placement)

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
        codec = self._known_codec()
        extra = parse_extra_params(HiggsExtra, request.extra)
        reference = (
            reference_audio(request.voice_reference, codec.sample_rate, self._higgs.max_reference_s)
            if request.voice_reference is not None
            else None
        )
        conversation = build_conversation(request, self._higgs, reference)
        inputs = model.processor.apply_chat_template(
            conversation,
            add_generation_prompt=True,
            tokenize=True,
            return_dict=True,
            sampling_rate=codec.sample_rate,
            return_tensors="pt",
        ).to(model.placement.device)
        reverter = DelayPatternReverter(codec.num_codebooks, codec.stream_bos, codec.stream_eos)
        with _frames_fed_back(model.model, lambda frame: sink.put(reverter.push(frame))):
            generated = model.model.generate(
                **inputs,
                generation_config=self._generation_config(model, request, extra),
                stopping_criteria=stop,
            )
        # The returned codes start with the prompt's (the reference); what the model made
        # follows. The last step's frame was never fed back, so it is always left here.
        prompt = inputs["audio_input_ids"].shape[1] if "audio_input_ids" in inputs else 0
        for frame in generated[0, prompt + reverter.generated :]:
            sink.put(reverter.push(frame))
        log.info(
            "higgs generated %d frames (%s)",
            reverter.generated,
            "to its end of audio" if reverter.ended else "stopped by the budget or a cancel",
        )

    def decode(self, model: _Loaded, frames: torch.Tensor) -> npt.NDArray[np.floating]:
        codes = frames.to(model.placement.device).transpose(0, 1).unsqueeze(0)
        wave = model.codec.decode(codes).audio_values
        return np.asarray(wave.float().cpu().numpy()).reshape(-1)

    def _generation_config(
        self, model: _Loaded, request: SynthesisRequest, extra: HiggsExtra
    ) -> GenerationConfig:
        codec = self._known_codec()
        seconds = min(
            self._higgs.max_audio_s, 1.0 + len(request.text) * self._higgs.seconds_per_char
        )
        config = copy.deepcopy(model.model.generation_config)
        config.update(  # type: ignore[no-untyped-call]
            do_sample=True,
            temperature=extra.temperature or self._higgs.temperature,
            top_p=extra.top_p or self._higgs.top_p,
            top_k=extra.top_k or self._higgs.top_k,
            # The codebooks' delay adds K - 1 frames after the last aligned one.
            max_new_tokens=math.ceil(seconds * codec.frame_rate) + codec.num_codebooks,
        )
        if self._higgs.ras_window:  # read by Higgs' own sampling loop, unknown to the type
            setattr(config, "ras_win_len", self._higgs.ras_window)  # noqa: B010
            setattr(config, "ras_win_max_num_repeat", self._higgs.ras_max_repeat)  # noqa: B010
        return config


@contextmanager
def _frames_fed_back(
    model: torch.nn.Module, on_frame: Callable[[torch.Tensor], None]
) -> Iterator[None]:
    """Calls `on_frame` with each generated frame as `generate` feeds it back to the model.

    Higgs' `generate` keeps the audio codes it made in its own state and hands a streamer
    text tokens only; each decoding step's forward call receives the previous step's frame
    as `audio_input_ids` (the prompt's prefill passes `input_ids` instead and is skipped).
    Only calls from the thread that entered count, so concurrent generations on one model
    never see each other's frames.
    """
    thread = threading.get_ident()

    def hook(_: torch.nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        if threading.get_ident() != thread or kwargs.get("input_ids") is not None:
            return
        codes = kwargs.get("audio_input_ids")
        if codes is not None:
            on_frame(codes[0, -1])

    handle = model.register_forward_pre_hook(hook, with_kwargs=True)
    try:
        yield
    finally:
        handle.remove()


def _primary(language: str) -> str:
    return language.replace("_", "-").split("-")[0].lower()
