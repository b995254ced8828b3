"""Kokoro-82M through kokoro-onnx: sentence by sentence, with voice blends and languages."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort
from kokoro_onnx import Kokoro

from chorus_contracts import Capabilities, ProviderCannotServe, SynthesisRequest, VoiceInfo
from chorus_kokoro.blend import Style, blend_style, parse_voice
from chorus_kokoro.languages import normalize_language, voice_gender, voice_language
from chorus_kokoro.model_files import ModelFileError, default_model_path, default_voices_path
from chorus_kokoro.settings import KokoroSettings
from chorus_kokoro.timed_model import with_durations
from chorus_provider import CancelSignal, Rendering, SentenceEngine, model_fingerprint
from chorus_provider.onnx_runs import CancellableSession, session_options
from chorus_provider.timings import PhonemeSpan, pair_words, phoneme_words, spoken_words
from chorus_text import ends_sentence

log = logging.getLogger("chorus.kokoro")

SAMPLE_RATE = 24_000
# kokoro-onnx refuses speeds outside this range.
MIN_SPEED, MAX_SPEED = 0.5, 2.0
_CUDA, _CPU = "CUDAExecutionProvider", "CPUExecutionProvider"


@dataclass(frozen=True)
class _Loaded:
    kokoro: Kokoro
    session: CancellableSession
    styles: dict[str, Style]
    model_id: str
    # The model reports token durations, so words can be timed.
    timed: bool


class KokoroEngine(SentenceEngine):
    """Kokoro on onnxruntime (CUDA when offered); one sentence per worker-thread call."""

    settings_class = KokoroSettings

    def __init__(self, settings: KokoroSettings) -> None:
        super().__init__(workers=settings.max_concurrency, chunking=settings.text_chunking())
        self._settings = settings
        self._languages = list(dict.fromkeys(normalize_language(c) for c in settings.languages))
        self._default_language = normalize_language(settings.lang)
        self._pause = bytes(2 * round(settings.sentence_pause_s * SAMPLE_RATE))
        self._loaded: _Loaded | None = None

    async def load(self) -> None:
        self._loaded = await asyncio.to_thread(_load, self._settings)

    def _require(self) -> _Loaded:
        if self._loaded is None:
            raise RuntimeError("KokoroEngine used before load()")
        return self._loaded

    def capabilities(self) -> Capabilities:
        styles = self._require().styles
        return Capabilities(
            provider=self._settings.name,
            engine="kokoro-onnx",
            models=self._settings.models,
            voices=[
                VoiceInfo(
                    id=voice,
                    name=voice.partition("_")[2].replace("_", " ").title() or voice,
                    language=voice_language(voice),
                    gender=voice_gender(voice),
                )
                for voice in sorted(styles)
            ],
            languages=self._languages,
            sample_rate=SAMPLE_RATE,
            max_text_length=self._settings.max_text_length,
            streaming=True,
            voice_blending=True,
            speed_range=(MIN_SPEED, MAX_SPEED),
            model_id=self._require().model_id,
            timestamps="word" if self._require().timed else "none",
            markup=self.markup(),
        )

    def check(self, request: SynthesisRequest) -> None:
        self._style(request.voice)
        self._language(request)
        if not MIN_SPEED <= request.speed <= MAX_SPEED:
            raise ProviderCannotServe(
                f"Kokoro speaks at speeds from {MIN_SPEED:g} to {MAX_SPEED:g}, "
                f"not {request.speed:g}",
                param="speed",
            )

    def text_language(self, request: SynthesisRequest) -> str | None:
        return self._language(request)

    def render(
        self, piece: str, request: SynthesisRequest, cancel: CancelSignal
    ) -> bytes | Rendering:
        loaded = self._require()
        phonemes = _phonemes(loaded, piece, self._language(request), timed=request.timestamps)
        return self._spoken(phonemes, piece, request, cancel)

    def render_phonemes(
        self, phonemes: str, request: SynthesisRequest, cancel: CancelSignal
    ) -> bytes | Rendering:
        # Kokoro's own phonemes come from espeak-ng's IPA: a <phoneme> is spoken as written.
        words = request.segments[0].text if request.segments else ""
        return self._spoken(phonemes, words, request, cancel)

    def _spoken(
        self, phonemes: str, piece: str, request: SynthesisRequest, cancel: CancelSignal
    ) -> bytes | Rendering:
        """`phonemes` spoken; word timings, when asked, pair them with `piece`'s words."""
        loaded = self._require()
        if not phonemes:
            return b""
        with loaded.session.cancelled_by(cancel):
            audio, _, spoken = loaded.kokoro.create_timed(
                phonemes,
                voice=self._style(request.voice),
                speed=request.speed,
                lang=self._language(request),
                is_phonemes=True,
            )
        pcm = np.clip(audio, -1.0, 1.0) * 32767.0
        pause = self._pause if ends_sentence(piece) else b""
        audio_bytes = bytes(pcm.astype("<i2").tobytes()) + pause
        if not request.timestamps:
            return audio_bytes
        spans = [PhonemeSpan(t.phoneme, t.start, t.end) for t in spoken]
        return Rendering(audio_bytes, pair_words(piece, spans) or [])

    def _style(self, voice: str) -> Style:
        return blend_style(self._require().styles, parse_voice(voice))

    def _language(self, request: SynthesisRequest) -> str:
        """The requested language; else the voice's own when offered; else the default."""
        if request.language:
            language = normalize_language(request.language)
            if language not in self._languages:
                raise ProviderCannotServe(
                    f"Kokoro here speaks {', '.join(self._languages)}; not '{request.language}'",
                    param="lang_code",
                )
            return language
        own = voice_language(parse_voice(request.voice)[0].voice)
        return own if own in self._languages else self._default_language


def _phonemes(loaded: _Loaded, piece: str, language: str, *, timed: bool) -> str:
    """The piece's phonemes; word by word when timed and espeak-ng joined or split words
    over the whole piece, so each phoneme word is one of the piece's words."""
    tokenizer = loaded.kokoro.tokenizer
    whole: str = tokenizer.phonemize(piece, language)
    if not timed or phoneme_words(whole) == len(spoken_words(piece)):
        return whole
    return " ".join(tokenizer.phonemize(word, language) for word in piece.split())


def _load(settings: KokoroSettings) -> _Loaded:
    model = _given_file(settings.model_path, "model_path") or default_model_path(settings.data_dir)
    voices = _given_file(settings.voices_path, "voices_path") or default_voices_path()
    options = session_options(settings.threads or 0)
    timed = with_durations(model)
    session = ort.InferenceSession(
        timed if timed is not None else str(model),
        sess_options=options,
        providers=_execution_providers(settings),
    )
    if timed is not None:
        # kokoro-onnx checks that the session's model file exists; this one came from bytes.
        session._model_path = str(model)
    kokoro = Kokoro.from_session(session, str(voices))
    # kokoro-onnx runs the model itself; this session lets a cancel stop that run.
    cancellable = CancellableSession(session)
    kokoro.sess = cancellable
    styles = {name: np.asarray(kokoro.voices[name], dtype=np.float32) for name in kokoro.voices}
    log.info(
        "kokoro model %s with %d voices on %s (%s intra-op threads)",
        model.name,
        len(styles),
        session.get_providers()[0],
        settings.threads or "default",
    )
    shaping = f"{settings.sentence_pause_s}/{settings.text_chunking()!r}"
    fingerprint = model_fingerprint(model, voices, shaping)
    return _Loaded(kokoro, cancellable, styles, fingerprint, timed=bool(kokoro.has_timings))


def _given_file(path: Path | None, key: str) -> Path | None:
    if path is not None and not path.is_file():
        raise ModelFileError(f"{key} {path} is not a file (CHORUS_KOKORO_{key.upper()})")
    return path


def _execution_providers(settings: KokoroSettings) -> list[str]:
    """CUDA first whenever this onnxruntime build offers it, unless told to stay on CPU."""
    available = ort.get_available_providers()
    if settings.execution_provider == "cpu":
        return [_CPU]
    if _CUDA in available:
        return [_CUDA, _CPU]
    if settings.execution_provider == "cuda":
        raise RuntimeError(
            "execution_provider is cuda, but this onnxruntime offers only "
            f"{', '.join(available)}; install onnxruntime-gpu"
        )
    return [_CPU]
