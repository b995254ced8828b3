"""Chatterbox behind the provider contract, sentence by sentence, cancellable per token.

`ChatterboxTTS.generate` (or the multilingual model's) runs unchanged: its punctuation
clean-up, tokenizer, T3 sampling loop, S3Gen decoder and Perth watermark. Two things it
has no argument for are added through a forward hook on T3's speech head, which that loop
calls once per generated token: the client leaving (the hook raises `Cancelled`), and a
token budget per sentence (the hook makes the stop token certain, so the loop ends the way
it ends for a finished sentence, instead of running to the package's 1000-token cap).
"""

from __future__ import annotations

import hashlib
import io
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import soundfile

from chorus_chatterbox.extra import parse_extra
from chorus_chatterbox.settings import ChatterboxSettings
from chorus_chatterbox.weights import weights_dir
from chorus_contracts import Capabilities, InvalidRequest, SynthesisRequest, UnknownVoice, VoiceInfo
from chorus_provider.cancel import Cancelled, CancelSignal
from chorus_torch import Placement, TorchSentenceEngine, reference_audio, to_pcm16

DEFAULT_VOICE = "default"
WATERMARK = "perth-implicit"  # Resemble AI's imperceptible watermark, applied by the package
SAMPLE_RATE = 24_000  # S3Gen's output rate, also what it wants references at
_REFERENCE_CACHE = 8


class _TokenGate:
    """The speech-head hook: the sentence's token budget and the request's cancel signal."""

    def __init__(self, stop_token: int) -> None:
        self.cancel: CancelSignal | None = None
        self.budget = 0
        self.calls = 0
        self.stop_token = stop_token

    def __call__(self, _module: Any, _inputs: Any, logits: Any) -> Any:
        if self.cancel is None:
            return None
        if self.cancel.is_set:
            raise Cancelled("the synthesis was cancelled")
        self.calls += 1
        # Call 1 is the prompt's forward pass; call n + 1 yields token n + 1.
        if self.calls > self.budget:
            forced = logits.new_full(logits.shape, -1e4)
            forced[..., self.stop_token] = 1e4
            return forced
        return None


@dataclass
class Chatterbox:
    """A loaded model, its built-in voice, and the conditionals of recent references."""

    tts: Any
    builtin: Any
    gate: _TokenGate
    references: OrderedDict[str, Any] = field(default_factory=OrderedDict)


class ChatterboxEngine(TorchSentenceEngine[Chatterbox]):
    settings_class = ChatterboxSettings

    def __init__(self, settings: ChatterboxSettings) -> None:
        super().__init__(settings)
        self._settings = settings
        self._languages = [settings.language] if settings.multilingual else ["en"]
        self._has_builtin = True

    def load_model(self, placement: Placement) -> Chatterbox:
        s = self._settings
        if s.multilingual:
            from chatterbox.mtl_tts import SUPPORTED_LANGUAGES, ChatterboxMultilingualTTS

            self._languages = sorted(SUPPORTED_LANGUAGES)
            if s.language not in SUPPORTED_LANGUAGES:
                raise RuntimeError(f"language '{s.language}' is not one of {self._languages}")
            tts = ChatterboxMultilingualTTS.from_local(weights_dir(s), placement.device.type)
        else:
            from chatterbox.tts import ChatterboxTTS

            tts = ChatterboxTTS.from_local(weights_dir(s), placement.device.type)
        gate = _TokenGate(tts.t3.hp.stop_speech_token)
        tts.t3.speech_head.register_forward_hook(gate)
        self._has_builtin = tts.conds is not None
        return Chatterbox(tts=tts, builtin=tts.conds, gate=gate)

    def capabilities(self) -> Capabilities:
        s = self._settings
        voices = [VoiceInfo(id=DEFAULT_VOICE, name="Chatterbox default")]
        return Capabilities(
            provider=s.name,
            engine="chatterbox-multilingual" if s.multilingual else "chatterbox",
            models=s.models,
            voices=voices if self._has_builtin else [],
            languages=self._languages,
            sample_rate=SAMPLE_RATE,
            max_text_length=s.max_text_length,
            streaming=True,
            voice_cloning=True,
            speed_range=(1.0, 1.0),
            audio_watermark=WATERMARK,
        )

    def check(self, request: SynthesisRequest) -> None:
        if request.speed != 1.0:
            raise InvalidRequest("Chatterbox speaks at one speed: 1.0", param="speed")
        parse_extra(request.extra)
        self._language(request)
        if request.voice_reference is not None:
            reference_audio(request.voice_reference, SAMPLE_RATE, self._settings.max_reference_s)
        elif request.voice != DEFAULT_VOICE or not self._has_builtin:
            have = f"'{DEFAULT_VOICE}' or " if self._has_builtin else ""
            raise UnknownVoice(
                f"voice '{request.voice}' is unknown: use {have}a voice_reference to clone",
                param="voice",
            )

    def render(self, piece: str, request: SynthesisRequest, cancel: CancelSignal) -> bytes:
        cancel.raise_if_set()
        extra = parse_extra(request.extra)
        loaded, s = self.model, self._settings
        loaded.tts.conds = self._conditionals(loaded, request, extra.exaggeration)
        options: dict[str, Any] = {
            "exaggeration": extra.exaggeration,
            "cfg_weight": extra.cfg_weight,
            "temperature": extra.temperature,
        }
        if s.multilingual:
            options["language_id"] = self._language(request)
        gate = loaded.gate
        gate.cancel, gate.calls = cancel, 0
        gate.budget = max(s.min_tokens, int(s.tokens_per_char * len(piece)))
        try:
            wav = loaded.tts.generate(piece, **options)
        finally:
            gate.cancel = None
        return to_pcm16(wav.squeeze(0).cpu().numpy())

    def _conditionals(
        self, loaded: Chatterbox, request: SynthesisRequest, exaggeration: float
    ) -> Any:
        if request.voice_reference is None:
            return loaded.builtin
        key = hashlib.sha256(request.voice_reference.encode("ascii", "replace")).hexdigest()
        conds = loaded.references.get(key)
        if conds is None:
            audio = reference_audio(
                request.voice_reference, SAMPLE_RATE, self._settings.max_reference_s
            )
            wav = io.BytesIO()
            soundfile.write(wav, audio, SAMPLE_RATE, format="WAV", subtype="PCM_16")
            wav.seek(0)
            loaded.tts.prepare_conditionals(wav, exaggeration=exaggeration)
            conds = loaded.references[key] = loaded.tts.conds
            while len(loaded.references) > _REFERENCE_CACHE:
                loaded.references.popitem(last=False)
        loaded.references.move_to_end(key)
        return conds

    def _language(self, request: SynthesisRequest) -> str:
        language = (request.language or self._settings.language).lower().split("-")[0]
        if language not in self._languages:
            raise InvalidRequest(
                f"language '{request.language}' is not one of {', '.join(self._languages)}",
                param="language",
            )
        return language
