"""Dia on transformers: dialogue scripts to 44.1 kHz speech, streamed as DAC frames decode."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import torch
from transformers import (
    DacModel,
    DiaDecoderConfig,
    DiaFeatureExtractor,
    DiaForConditionalGeneration,
    DiaProcessor,
    DiaTokenizer,
    StoppingCriteriaList,
)
from transformers.models.dia.processing_dia import DiaAudioKwargs

from chorus_contracts import (
    Capabilities,
    InvalidRequest,
    SynthesisRequest,
    UnknownVoice,
    VoiceInfo,
)
from chorus_dia.script import SPEAKERS, DiaOptions, dialogue_script, segments_script
from chorus_dia.settings import DiaSettings
from chorus_dia.stepping import DiaJoining, DiaMember, DiaPrompt, DiaStepper
from chorus_torch import (
    Batcher,
    FrameSink,
    Placement,
    SharedDecoder,
    TorchEngine,
    WeightsNotFound,
    device_turns,
    find_snapshot,
    reference_audio,
)


@dataclass(frozen=True)
class DiaLayout:
    """The checkpoint's codebook layout and special tokens, read once from its config."""

    delay_pattern: list[int]
    bos_id: int
    eos_id: int
    pad_id: int
    max_positions: int
    codebook_size: int

    @classmethod
    def of(cls, model: DiaForConditionalGeneration, codec: DacModel) -> DiaLayout:
        decoder = model.config.decoder_config
        assert isinstance(decoder, DiaDecoderConfig)
        assert decoder.bos_token_id is not None
        assert decoder.pad_token_id is not None
        assert isinstance(decoder.eos_token_id, int)
        return cls(
            delay_pattern=list(model.config.delay_pattern or []),
            bos_id=decoder.bos_token_id,
            eos_id=decoder.eos_token_id,
            pad_id=decoder.pad_token_id,
            max_positions=decoder.max_position_embeddings,
            codebook_size=int(codec.config.codebook_size),
        )

    def audio_kwargs(self) -> DiaAudioKwargs:
        """What the processor must know of this checkpoint (its defaults are Dia-1.6B's)."""
        return {
            "delay_pattern": self.delay_pattern,
            "bos_token_id": self.bos_id,
            "eos_token_id": self.eos_id,
            "pad_token_id": self.pad_id,
        }


@dataclass(frozen=True)
class LoadedDia:
    model: DiaForConditionalGeneration
    processor: DiaProcessor
    codec: DacModel
    layout: DiaLayout
    placement: Placement
    batcher: Batcher[DiaMember, DiaJoining]
    decoder: SharedDecoder


class DiaEngine(TorchEngine[LoadedDia]):
    """Speaks `[S1]`/`[S2]` scripts; a voice reference (with its transcript) clones a voice.

    Concurrent requests share decoding steps (`chorus_dia.stepping`).
    """

    settings_class = DiaSettings

    def __init__(self, settings: DiaSettings) -> None:
        super().__init__(settings)
        self._dia = settings
        self._sample_rate: int | None = None

    def load_model(self, model_dir: Path, placement: Placement) -> LoadedDia:
        codec_dir = self._codec_dir(model_dir)
        model = DiaForConditionalGeneration.from_pretrained(model_dir, dtype=placement.dtype)
        # DAC stays in float32: it is small, and its decoder is sensitive to half precision.
        codec = DacModel.from_pretrained(codec_dir, dtype=torch.float32)
        # transformers leaves the processor's constructor untyped.
        processor = DiaProcessor(  # type: ignore[no-untyped-call]
            DiaFeatureExtractor.from_pretrained(model_dir),
            DiaTokenizer.from_pretrained(model_dir),
            codec,
        )
        self._sample_rate = int(codec.config.sampling_rate)
        # from_pretrained leaves both in eval mode. nn.Module.to itself: transformers'
        # decorated `to` confuses type checkers.
        torch.nn.Module.to(model, placement.device)
        torch.nn.Module.to(codec, placement.device)
        layout = DiaLayout.of(model, codec)
        stepper = DiaStepper(
            model,
            lambda request: self._prompt(processor, layout, placement, request),
            pad_id=layout.pad_id,
            eos_id=layout.eos_id,
        )
        turns = device_turns(placement)
        batcher = Batcher(
            stepper, self._dia.max_concurrency, self._dia.max_queue, placement.device, turns=turns
        )
        decoder = SharedDecoder(
            lambda frames: _decode_many(codec, layout, placement, frames), turns
        )
        self.warm_decoder(decoder, len(layout.delay_pattern), placement.device)
        return LoadedDia(model, processor, codec, layout, placement, batcher, decoder)

    def _codec_dir(self, model_dir: Path) -> Path:
        if self._dia.codec_path is not None:
            if not (self._dia.codec_path / "config.json").is_file():
                raise WeightsNotFound(
                    f"CHORUS_DIA_CODEC_PATH: {self._dia.codec_path} holds no config.json"
                )
            return self._dia.codec_path
        if (model_dir / "codec" / "config.json").is_file():
            return model_dir / "codec"
        repo = _codec_repo(model_dir)
        if repo is None:
            raise WeightsNotFound(
                f"{model_dir} names no codec and has no codec/ folder; set CHORUS_DIA_CODEC_PATH"
            )
        return find_snapshot(self._dia, repo, self._dia.codec_revision, "CHORUS_DIA_")

    def capabilities(self) -> Capabilities:
        return Capabilities(
            provider=self._dia.name,
            engine="dia",
            models=self._dia.models,
            voices=[VoiceInfo(id=s, name=f"Speaker {s[1]}", language="en") for s in SPEAKERS],
            languages=["en"],
            sample_rate=self._sample_rate or 44_100,
            max_text_length=self._dia.max_text_length,
            streaming=True,
            voice_cloning=True,
            speed_range=(1.0, 1.0),
            # SSML's <voice> picks the speaker tag; Dia has no other markup (script.py).
            markup=["voice"],
        )

    def check(self, request: SynthesisRequest) -> None:
        # With a reference sample the voice is the sample's; the name only picks a tag.
        if request.voice_reference is None and request.voice not in SPEAKERS:
            raise UnknownVoice(
                f"Dia has no voice '{request.voice}'; use S1 or S2, or a voice reference",
                param="voice",
            )
        if request.speed != 1.0:
            raise InvalidRequest("Dia speaks at its own pace; speed must be 1.0", param="speed")
        if request.language is not None and not request.language.lower().startswith("en"):
            raise InvalidRequest(f"Dia speaks English, not '{request.language}'", param="language")
        DiaOptions.of(request.extra)

    def generate(
        self,
        model: LoadedDia,
        request: SynthesisRequest,
        sink: FrameSink,
        stop: StoppingCriteriaList,
    ) -> None:
        model.batcher.run(request, sink.put, stop, self._dia.seed)

    def _prompt(
        self,
        processor: DiaProcessor,
        layout: DiaLayout,
        placement: Placement,
        request: SynthesisRequest,
    ) -> DiaPrompt:
        options = DiaOptions.of(request.extra)
        speaker = request.voice if request.voice in SPEAKERS else SPEAKERS[0]
        audio, transcript = None, None
        if request.voice_reference is not None:
            transcript = request.voice_reference_text
            audio = reference_audio(
                request.voice_reference, self._sample_rate or 44_100, self._dia.max_reference_s
            )
        text = (
            request.text if request.segments is None else segments_script(request.segments, speaker)
        )
        script = dialogue_script(text, speaker, transcript)
        inputs = processor(
            text=[script],
            audio=[audio] if audio is not None else None,
            padding=True,
            return_tensors="pt",
            audio_kwargs=layout.audio_kwargs(),
        ).to(placement.device)
        prompt = inputs["decoder_input_ids"]
        attention = inputs["decoder_attention_mask"]
        room = layout.max_positions - prompt.shape[1]
        if room <= 0:
            raise InvalidRequest(
                "voice_reference leaves Dia no room to speak", param="voice_reference"
            )
        wanted = options.max_new_tokens or self._dia.max_new_tokens
        return DiaPrompt(
            input_ids=inputs["input_ids"],
            attention_mask=inputs["attention_mask"],
            decoder_input_ids=prompt,
            prompt_frames=processor.get_audio_prompt_len(
                attention, audio_kwargs=layout.audio_kwargs()
            )
            - 1,
            max_new_tokens=min(wanted, self._dia.max_new_tokens, room),
            sampling=options.sampling(),
        )

    def decode(self, model: LoadedDia, frames: torch.Tensor) -> npt.NDArray[np.floating]:
        return model.decoder.decode(frames)

    async def decode_window(
        self, model: LoadedDia, frames: torch.Tensor
    ) -> npt.NDArray[np.floating]:
        return await model.decoder.decode_soon(frames, self.executor)


def _decode_many(
    codec: DacModel, layout: DiaLayout, placement: Placement, frames: torch.Tensor
) -> npt.NDArray[np.floating]:
    """Windows of DAC frames (windows, frames, codebooks) to their waveforms, one call."""
    codes = frames.clamp(0, layout.codebook_size - 1)
    codes = codes.transpose(1, 2).to(placement.device)  # (windows, codebooks, frames)
    audio = codec.decode(audio_codes=codes).audio_values
    return np.asarray(audio.float().reshape(codes.shape[0], -1).cpu().numpy())


def _codec_repo(model_dir: Path) -> str | None:
    """The codec repo the model's processor config names (`descript/dac_44khz` for Dia)."""
    path = model_dir / "processor_config.json"
    if not path.is_file():
        return None
    named = json.loads(path.read_text()).get("audio_tokenizer", {})
    repo = named.get("audio_tokenizer_name_or_path") if isinstance(named, dict) else None
    return repo or None
