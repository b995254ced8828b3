"""Everything an uploaded recording must pass before any of it is stored.

The container comes from the bytes, never from the file name or MIME type. Decoding is
bounded: a file that claims or turns out to be longer than the limit is refused before its
samples can fill memory, so a two-hour silent FLAC of a few kilobytes costs nothing.
"""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass

import av
import numpy as np
import numpy.typing as npt

from chorus_contracts import InvalidAudio, InvalidRequest, PayloadTooLarge
from chorus_router.voices.containers import (
    ACCEPTED,
    Container,
    sniff,
    truncation,
    trusts_header_duration,
)
from chorus_router.voices.settings import VoiceSettings

NAME_MAX_CHARS = 100
DESCRIPTION_MAX_CHARS = 1000
# Below this many bytes per second no real recording exists (3.2 kbit/s; Opus speech >= 6).
_MIN_BYTES_PER_SECOND = 400
# Tags and cover art may add this much beyond the largest plausible sample data.
_METADATA_ALLOWANCE = 1024 * 1024
_SOUND_DBFS = -45.0
_FRAME_S = 0.02
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


@dataclass(frozen=True)
class ValidatedAudio:
    """A recording that passed every check, decoded and mixed down to mono float32."""

    samples: npt.NDArray[np.float32]
    sample_rate: int
    channels: int
    container: str
    codec: str

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.sample_rate


def validate_audio(data: bytes, settings: VoiceSettings, param: str) -> ValidatedAudio:
    """Check one recording against the limits; the error names `param` and says what is wrong."""
    if not data:
        raise InvalidAudio("the audio file is empty (0 bytes)", param=param)
    if len(data) > settings.max_upload_bytes:
        raise PayloadTooLarge(
            f"the audio file is {len(data)} bytes; the limit is {settings.max_upload_bytes}",
            param=param,
        )
    container = sniff(data)
    if container is None:
        raise InvalidAudio(
            f"the file is not audio in an accepted format ({ACCEPTED}); "
            "the format is read from the file's content, not its name",
            param=param,
        )
    cut = truncation(container, data)
    if cut is not None:
        raise InvalidAudio(f"the {container.label} file is truncated: {cut}", param=param)
    audio = _decode(data, container, settings, param)
    _check_plausible(audio, len(data), settings, param)
    return audio


def _decode(
    data: bytes, container: Container, settings: VoiceSettings, param: str
) -> ValidatedAudio:
    try:
        with av.open(io.BytesIO(data), mode="r", format=container.demuxer) as box:
            if not box.streams.audio:
                raise InvalidAudio(f"the {container.label} file has no audio stream", param=param)
            stream = box.streams.audio[0]
            codec = stream.codec_context.name
            if codec not in container.codecs:
                raise InvalidAudio(
                    f"{codec} audio in a {container.label} file is not accepted", param=param
                )
            declared = _declared_duration(box.duration, container, data)
            if declared is not None and declared > settings.max_duration_s + 1:
                raise _too_long(declared, settings, param)
            samples, rate, channels = _bounded_samples(box, stream, settings, param)
    except av.FFmpegError as exc:
        raise InvalidAudio(
            f"the {container.label} file is corrupt or truncated and cannot be decoded "
            f"({type(exc).__name__})",
            param=param,
        ) from None
    if declared is not None and len(samples) / rate < declared - max(0.25, 0.02 * declared):
        raise InvalidAudio(
            f"the {container.label} file is truncated: it declares {declared:.1f} s but only "
            f"{len(samples) / rate:.1f} s of audio decode",
            param=param,
        )
    return ValidatedAudio(samples, rate, channels, container.label, codec)


def _declared_duration(duration_us: int | None, container: Container, data: bytes) -> float | None:
    if not duration_us or duration_us <= 0 or not trusts_header_duration(container, data):
        return None
    return duration_us / 1_000_000


def _bounded_samples(
    box: av.container.InputContainer,
    stream: av.AudioStream,
    settings: VoiceSettings,
    param: str,
) -> tuple[npt.NDArray[np.float32], int, int]:
    """Decode to mono float32, stopping as soon as the audio exceeds the longest allowed."""
    resampler = av.AudioResampler(format="fltp")  # keeps the rate and layout of the first frame
    planes: list[npt.NDArray[np.float32]] = []
    rate, channels, count = 0, 0, 0
    for frame in box.decode(stream):
        channels = max(channels, len(frame.layout.channels))
        if channels > settings.max_channels:
            raise InvalidAudio(
                f"the audio has {channels} channels; at most {settings.max_channels} are accepted",
                param=param,
            )
        for out in resampler.resample(frame):
            rate = out.sample_rate
            planes.append(out.to_ndarray().astype(np.float32).mean(axis=0))
            count += out.samples
        if rate and count > (settings.max_duration_s + 0.5) * rate:
            raise _too_long(count / rate, settings, param, at_least=True)
    for out in resampler.resample(None):
        planes.append(out.to_ndarray().astype(np.float32).mean(axis=0))
    if not planes or rate <= 0:
        raise InvalidAudio("the file holds no audio samples (zero-length audio)", param=param)
    return np.concatenate(planes), rate, channels


def _too_long(
    seconds: float, settings: VoiceSettings, param: str, *, at_least: bool = False
) -> InvalidAudio:
    length = f"at least {seconds:.1f}" if at_least else f"{seconds:.1f}"
    return InvalidAudio(
        f"the recording is {length} s long; the longest accepted is {settings.max_duration_s:g} s",
        param=param,
    )


def _check_plausible(audio: ValidatedAudio, size: int, settings: VoiceSettings, param: str) -> None:
    seconds = audio.duration_s
    if seconds < settings.min_duration_s:
        raise InvalidAudio(
            f"the recording is {seconds:.1f} s long; at least {settings.min_duration_s:g} s "
            "of speech is needed",
            param=param,
        )
    if seconds > settings.max_duration_s:
        raise _too_long(seconds, settings, param)
    if size / seconds < _MIN_BYTES_PER_SECOND:
        raise InvalidAudio(
            f"{size} bytes decode to {seconds:.1f} s of audio, far more than real recordings "
            "of that size hold",
            param=param,
        )
    most = seconds * audio.sample_rate * max(audio.channels, 1) * 8 + _METADATA_ALLOWANCE
    if size > most:
        raise InvalidAudio(
            f"the file is {size} bytes but holds only {seconds:.1f} s of audio; "
            "the rest is not audio",
            param=param,
        )
    if _sounding_seconds(audio) < min(1.0, settings.min_duration_s / 2):
        raise InvalidAudio("the recording is silent or nearly so", param=param)


def _sounding_seconds(audio: ValidatedAudio) -> float:
    """How long the signal stays above a quiet-room level, in 20 ms frames."""
    size = max(1, int(audio.sample_rate * _FRAME_S))
    whole = len(audio.samples) - len(audio.samples) % size
    frames = audio.samples[:whole].astype(np.float64).reshape(-1, size)
    rms = np.sqrt(np.mean(frames**2, axis=1))
    loud = int(np.count_nonzero(rms > 10 ** (_SOUND_DBFS / 20)))
    return loud * size / audio.sample_rate


def clean_name(value: str, param: str = "name") -> str:
    """A display name: trimmed, NFC, no path separators or control characters, bounded."""
    name = unicodedata.normalize("NFC", value).strip()
    if not name:
        raise InvalidRequest(f"'{param}' must not be empty", param=param)
    if len(name) > NAME_MAX_CHARS:
        raise InvalidRequest(
            f"'{param}' is {len(name)} characters; at most {NAME_MAX_CHARS} are allowed",
            param=param,
        )
    if "/" in name or "\\" in name or set(name) <= {"."}:
        raise InvalidRequest(
            f"'{param}' must not contain path separators ('/' or '\\') or be only dots",
            param=param,
        )
    if any(_is_control(c) for c in name):
        raise InvalidRequest(f"'{param}' must not contain control characters", param=param)
    return name


def clean_text(value: str | None, param: str) -> str | None:
    """Free text (a description): bounded, no control characters but newlines and tabs."""
    if value is None or not value.strip():
        return None
    text = unicodedata.normalize("NFC", value).strip()
    if len(text) > DESCRIPTION_MAX_CHARS:
        raise InvalidRequest(
            f"'{param}' is {len(text)} characters; at most {DESCRIPTION_MAX_CHARS} are allowed",
            param=param,
        )
    if any(_is_control(c) for c in text if c not in "\n\t"):
        raise InvalidRequest(f"'{param}' must not contain control characters", param=param)
    return text


_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8}){0,4}$")


def clean_language(value: str, param: str = "language") -> str:
    """A BCP 47 tag such as `en-US`, as OpenAI's consent API takes it."""
    tag = value.strip()
    if len(tag) > 35 or not _LANGUAGE.match(tag):
        raise InvalidRequest(
            f"'{param}' must be a BCP 47 language tag such as 'en-US'", param=param
        )
    return tag


def _is_control(char: str) -> bool:
    return unicodedata.category(char) in ("Cc", "Zl", "Zp") or char in _BIDI_CONTROLS
