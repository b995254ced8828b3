"""NeuTTS behind the provider contract: sentence by sentence, cancellable at every step.

The package's `NeuTTS.infer` runs the whole sentence (backbone generation, NeuCodec decode,
Perth watermark); the torch backend does not stream inside a sentence (its `infer_stream`
is for GGUF backbones only), so audio leaves sentence by sentence. A forward pre-hook on the
backbone raises `Cancelled` at the next generated token once the client has gone; a GGUF
backbone streams in 25-code chunks and stops at the next chunk.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from chorus_contracts import (
    Capabilities,
    InvalidRequest,
    SynthesisRequest,
    UnknownVoice,
    VoiceInfo,
)
from chorus_neutts.settings import NeuTTSSettings
from chorus_neutts.voices import (
    REFERENCE_RATE,
    Voice,
    decoded_wav,
    describe,
    load_builtin,
    packaged_samples_dir,
    reference_transcript,
)
from chorus_provider.cancel import Cancelled, CancelSignal
from chorus_torch import Placement, TorchSentenceEngine, reference_audio, resolve_weights, to_pcm16

ENV_PREFIX = "CHORUS_NEUTTS_"
WATERMARK = "perth-implicit"  # NeuTTS applies Resemble AI's Perth watermark to its output
SAMPLE_RATE = 24_000
_ENGINE = "neutts"
_REFERENCE_CACHE = 16  # encoded references kept, so a cloned voice is encoded once


@dataclass
class NeuTTSModel:
    """A loaded NeuTTS, its built-in voices, and the codes of recent references."""

    tts: Any
    voices: dict[str, Voice]
    references: OrderedDict[str, list[int]] = field(default_factory=OrderedDict)


class NeuTTSEngine(TorchSentenceEngine[NeuTTSModel]):
    settings_class = NeuTTSSettings

    def __init__(self, settings: NeuTTSSettings) -> None:
        super().__init__(settings)
        self._settings = settings
        self._voices: list[VoiceInfo] = []
        self._cancel: CancelSignal | None = None  # the one worker's current request
        self._encodes = True

    def load_model(self, placement: Placement) -> NeuTTSModel:
        from neutts import NeuTTS

        s = self._settings
        if s.backbone_gguf is not None:
            backbone = str(s.backbone_gguf)
        else:
            backbone = str(resolve_weights(s, ENV_PREFIX))
        tts = NeuTTS(
            backbone_repo=backbone,
            backbone_device=placement.device.type,
            codec_repo=s.codec,
            codec_device=placement.device.type,
            language=s.language,
            seed=s.seed,
        )
        if not tts._is_quantized_model:
            tts.backbone.register_forward_pre_hook(self._stop_if_cancelled)
        self._encodes = not tts._is_onnx_codec
        voices_dir = s.voices_dir or packaged_samples_dir()
        voices = load_builtin(voices_dir, lambda wav: _encode(tts, decoded_wav(wav)))
        if s.default_voice not in voices:
            raise RuntimeError(
                f"default_voice '{s.default_voice}' is not among the voices in {voices_dir}: "
                f"{', '.join(voices) or 'none'}"
            )
        self._voices = describe(voices)
        return NeuTTSModel(tts=tts, voices=voices)

    def capabilities(self) -> Capabilities:
        s = self._settings
        return Capabilities(
            provider=s.name,
            engine=_ENGINE,
            models=s.models,
            voices=self._voices,
            languages=[s.language],
            sample_rate=SAMPLE_RATE,
            max_text_length=s.max_text_length,
            streaming=True,
            voice_cloning=self._encodes,
            speed_range=(1.0, 1.0),
            audio_watermark=WATERMARK,
        )

    def check(self, request: SynthesisRequest) -> None:
        if request.speed != 1.0:
            raise InvalidRequest("NeuTTS speaks at one speed: 1.0", param="speed")
        if request.extra:
            unknown = ", ".join(sorted(request.extra))
            raise InvalidRequest(f"NeuTTS takes no extra parameters: {unknown}", param="extra")
        if request.voice_reference is not None:
            if not self._encodes:
                raise InvalidRequest(
                    f"codec {self._settings.codec} only decodes; cloning needs an encoder",
                    param="voice_reference",
                )
            reference_audio(request.voice_reference, REFERENCE_RATE, self._settings.max_reference_s)
            reference_transcript(request.voice_reference_text)
        elif request.voice not in {voice.id for voice in self._voices}:
            raise UnknownVoice(
                f"voice '{request.voice}' is not one of "
                f"{', '.join(v.id for v in self._voices)}; or send voice_reference with "
                "voice_reference_text to clone one",
                param="voice",
            )

    def render(self, piece: str, request: SynthesisRequest, cancel: CancelSignal) -> bytes:
        cancel.raise_if_set()
        loaded, s = self.model, self._settings
        voice = self._voice_for(loaded, request)
        tts = loaded.tts
        self._cancel = cancel
        try:
            if tts._is_quantized_model:
                chunks = []
                for chunk in tts.infer_stream(
                    piece, voice.codes, voice.transcript, temperature=s.temperature, top_k=s.top_k
                ):
                    cancel.raise_if_set()
                    chunks.append(chunk)
                wav = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)
            else:
                budget = max(s.min_codes, int(s.codes_per_char * len(piece)))
                tts.backbone.generation_config.max_new_tokens = budget
                wav = tts.infer(
                    piece, voice.codes, voice.transcript, temperature=s.temperature, top_k=s.top_k
                )
        finally:
            self._cancel = None
        return to_pcm16(wav)

    def _voice_for(self, loaded: NeuTTSModel, request: SynthesisRequest) -> Voice:
        if request.voice_reference is None:
            return loaded.voices[request.voice]
        transcript = reference_transcript(request.voice_reference_text)
        key = _reference_key(request.voice_reference)
        codes = loaded.references.get(key)
        if codes is None:
            audio = reference_audio(
                request.voice_reference, REFERENCE_RATE, self._settings.max_reference_s
            )
            codes = loaded.references[key] = _encode(loaded.tts, audio)
            while len(loaded.references) > _REFERENCE_CACHE:
                loaded.references.popitem(last=False)
        loaded.references.move_to_end(key)
        return Voice(codes=codes, transcript=transcript)

    def _stop_if_cancelled(self, *_: Any) -> None:
        cancel = self._cancel
        if cancel is not None and cancel.is_set:
            raise Cancelled("the synthesis was cancelled")


def _encode(tts: Any, audio: np.ndarray) -> list[int]:
    import torch

    tensor = torch.from_numpy(audio).float()[None, None, :]  # NeuCodec takes [B, 1, T]
    with torch.no_grad():
        codes = tts.codec.encode_code(audio_or_path=tensor)
    return [int(c) for c in codes.reshape(-1).tolist()]


def _reference_key(voice_reference: str) -> str:
    return hashlib.sha256(voice_reference.encode("ascii", "replace")).hexdigest()
