"""espeak-ng run as a subprocess per sentence; WAV on stdout is stripped to raw PCM."""

from __future__ import annotations

import asyncio
import logging
import re
import shutil
import subprocess
from dataclasses import dataclass

from chorus_contracts import (
    Capabilities,
    ProviderCannotServe,
    SynthesisRequest,
    UnknownVoice,
    UpstreamError,
    VoiceInfo,
    normalize_language,
)
from chorus_espeak.emphasis import espeak_input
from chorus_espeak.library import EspeakLibrary, shared_library
from chorus_espeak.settings import EspeakSettings
from chorus_provider import CancelSignal, Rendering, SentenceEngine, model_fingerprint

log = logging.getLogger("chorus.espeak")

SAMPLE_RATE = 22_050
# espeak-ng's -s accepts 80..~800 words per minute (above 450 it uses its sonic speed-up).
MIN_WPM, MAX_WPM = 80, 700
_ALIAS = re.compile(r"\(([a-z0-9-]+) (\d+)\)")
DEFAULT_PITCH = 50
_PITCHES = {"x-low": 20, "low": 35, "medium": 50, "default": 50, "high": 65, "x-high": 80}
_RELATIVE_PITCH = re.compile(r"([+-]\d+(?:\.\d+)?)%")


@dataclass(frozen=True)
class _Catalog:
    voices: dict[str, VoiceInfo]
    variants: frozenset[str]
    # espeak-ng's "Other Languages" column: `fr` -> `fr-fr`, its preferred voice for it.
    aliases: dict[str, str]

    def language(self, code: str) -> str | None:
        """The voice that speaks `code` (`fr`, `FR_fr`, `en-US`), if any."""
        norm = normalize_language(code)
        return norm if norm in self.voices else self.aliases.get(norm)


class EspeakEngine(SentenceEngine):
    settings_class = EspeakSettings
    # espeak-ng's own pitch setting (-p) takes a prosody pitch, its SSML an emphasis.
    native_markup = ("prosody-pitch", "emphasis")

    def __init__(self, settings: EspeakSettings) -> None:
        super().__init__(workers=settings.max_concurrency, chunking=settings.text_chunking())
        self._settings = settings
        self._catalog = _Catalog({}, frozenset(), {})
        self._model_id: str | None = None
        self._library: EspeakLibrary | None = None

    async def load(self) -> None:
        binary = shutil.which(self._settings.binary)
        if binary is None:
            raise RuntimeError(
                f"{self._settings.binary} not found on PATH (Debian: apt-get install espeak-ng)"
            )
        voices_table = await _run_listing(binary, "--voices")
        variants_table = await _run_listing(binary, "--voices=variant")
        version = await _run_listing(binary, "--version")
        self._model_id = model_fingerprint(version, str(self._settings.base_words_per_minute))
        self._binary = binary
        self._catalog = _Catalog(
            _parse_voices(voices_table),
            _parse_variants(variants_table),
            _parse_aliases(voices_table),
        )
        try:
            self._library = await asyncio.to_thread(shared_library)
        except (OSError, RuntimeError) as exc:
            log.warning("libespeak-ng unavailable, so no word timestamps: %s", exc)

    def capabilities(self) -> Capabilities:
        voices = list(self._catalog.voices.values())
        base = self._settings.base_words_per_minute
        return Capabilities(
            provider=self._settings.name,
            engine="espeak-ng",
            models=self._settings.models,
            voices=voices,
            languages=sorted({v.language for v in voices if v.language}),
            sample_rate=SAMPLE_RATE,
            max_text_length=self._settings.max_text_length,
            streaming=True,
            speed_range=(round(MIN_WPM / base, 3), round(MAX_WPM / base, 3)),
            voice_variants=sorted(self._catalog.variants),
            model_id=self._model_id,
            timestamps="word" if self._library is not None else "none",
            markup=self.markup(),
        )

    def check(self, request: SynthesisRequest) -> None:
        base, _, variant = request.voice.partition("+")
        if base not in self._catalog.voices:
            raise UnknownVoice(f"espeak-ng has no voice '{base}'", param="voice")
        if variant and variant not in self._catalog.variants:
            raise UnknownVoice(f"espeak-ng has no voice variant '{variant}'", param="voice")
        if request.language and self._catalog.language(request.language) is None:
            raise ProviderCannotServe(
                f"espeak-ng has no language '{request.language}'", param="lang_code"
            )

    def text_language(self, request: SynthesisRequest) -> str | None:
        # espeak-ng's voices are named by the language they speak.
        return request.language or request.voice.partition("+")[0]

    def render(
        self, piece: str, request: SynthesisRequest, cancel: CancelSignal
    ) -> bytes | Rendering:
        wpm = min(
            MAX_WPM, max(MIN_WPM, round(self._settings.base_words_per_minute * request.speed))
        )
        voice = request.voice
        language = self._catalog.language(request.language) if request.language else None
        if language:
            _, _, variant = voice.partition("+")
            voice = language + (f"+{variant}" if variant else "")
        segment = request.segments[0] if request.segments else None
        pitch = espeak_pitch(segment.pitch if segment else None)
        spoken = espeak_input(piece, segment.emphasis if segment else None)
        if request.timestamps and self._library is not None:
            # Word events come only from the library; the same synthesizer as the command.
            pcm, words = self._library.speak(spoken, voice, wpm, pitch, stop=lambda: cancel.is_set)
            cancel.raise_if_set()
            return Rendering(pcm, words)
        # Text goes through stdin, never argv: it cannot be taken for an option.
        ssml = ["-m"] if spoken.ssml else []
        with subprocess.Popen(
            [
                self._binary,
                "--stdout",
                "-b",
                "1",
                *ssml,
                "-v",
                voice,
                "-s",
                str(wpm),
                "-p",
                str(pitch),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        ) as process:
            # Killing the process is espeak-ng's abort: a cancelled piece stops at once.
            forget = cancel.on_cancel(process.kill)
            try:
                out, _ = process.communicate(
                    spoken.text.encode("utf-8"), timeout=self._settings.render_timeout_s
                )
            except subprocess.TimeoutExpired:
                process.kill()
                raise UpstreamError("espeak-ng took too long") from None
            finally:
                forget()
        cancel.raise_if_set()
        if process.returncode != 0:
            raise UpstreamError(f"espeak-ng exited with {process.returncode}")
        return _wav_payload(out)


def espeak_pitch(pitch: str | None) -> int:
    """A prosody pitch on espeak-ng's 0-99 scale (50 is the voice's own): named levels, or
    "+10%" / "-20%" from the voice's own; what the scale cannot say (Hz, semitones) keeps
    the voice's pitch."""
    if pitch is None:
        return DEFAULT_PITCH
    if pitch in _PITCHES:
        return _PITCHES[pitch]
    match = _RELATIVE_PITCH.fullmatch(pitch)
    if match is None:
        return DEFAULT_PITCH
    return min(99, max(0, round(DEFAULT_PITCH * (1 + float(match.group(1)) / 100))))


async def _run_listing(binary: str, flag: str) -> str:
    proc = await asyncio.create_subprocess_exec(
        binary, flag, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"espeak-ng {flag} failed: {err.decode(errors='replace')[:200]}")
    return out.decode("utf-8", errors="replace")


def _parse_voices(table: str) -> dict[str, VoiceInfo]:
    """Rows of `espeak-ng --voices`: Pty, Language, Age/Gender, VoiceName, File, ..."""
    voices: dict[str, VoiceInfo] = {}
    for line in table.splitlines()[1:]:
        cols = line.split()
        # mbrola voices ("mb/...") need separately installed diphone databases.
        if len(cols) < 5 or cols[4].startswith("mb/"):
            continue
        language, age_gender, name = cols[1], cols[2], cols[3]
        gender = {"M": "male", "F": "female"}.get(age_gender.rpartition("/")[2])
        voices[language] = VoiceInfo(
            id=language, name=name.replace("_", " "), language=language, gender=gender
        )
    return voices


def _parse_aliases(table: str) -> dict[str, str]:
    """`(fr 5)` after fr-fr's row: `fr` is spoken by fr-fr at priority 5 (lower wins)."""
    best: dict[str, tuple[int, str]] = {}
    for line in table.splitlines()[1:]:
        cols = line.split()
        if len(cols) < 5 or cols[4].startswith("mb/"):
            continue
        for alias, priority in _ALIAS.findall(line):
            if alias not in best or int(priority) < best[alias][0]:
                best[alias] = (int(priority), cols[1])
    return {alias: language for alias, (_, language) in best.items()}


def _parse_variants(table: str) -> frozenset[str]:
    names = set()
    for line in table.splitlines()[1:]:
        cols = line.split()
        if len(cols) >= 5 and cols[4].startswith("!v/"):
            names.add(cols[4][3:])
    return frozenset(names)


def _wav_payload(wav: bytes) -> bytes:
    """The sample data of espeak-ng's WAV (its size fields are placeholders when streamed)."""
    at = wav.find(b"data", 12)
    if wav[:4] != b"RIFF" or at < 0:
        raise UpstreamError("espeak-ng produced no WAV audio")
    payload = wav[at + 8 :]
    return payload[: len(payload) - len(payload) % 2]
