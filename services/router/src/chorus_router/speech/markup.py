"""SSML in a speech request: compiled once, then fitted to each provider that may speak it.

The compiled segments are the one form every provider gets (plain text a lexicon entry
matches becomes one segment too). For a provider, the request's lexicons are applied first,
as phonemes where it takes them and as aliases otherwise (a provider with a pronunciation
dictionary of its own gets them apart, see pronunciations.py); then each segment's words are
normalized as its plain text would be, a `<lang>` it does not speak
and a `<voice>` it does not have are left out (its own language and voice speak them), as are
a pitch or phonemes it does not take, and an emphasis it does not take becomes a rate and
a volume; neighbours that nothing then tells apart become one segment. What its
capabilities do not list is reported as approximated, including what it only describes
to its model in words (`instructed_markup`).
"""

from __future__ import annotations

import json
import re

from chorus_contracts import Capabilities, SpeechRequest, SpeechSegment
from chorus_contracts.provider import Emphasis
from chorus_router.lexicons.records import AppliedLexicons
from chorus_router.routing.pool import ProviderHandle
from chorus_router.speech.text_hygiene import clean_text
from chorus_text import normalize_text
from chorus_text.lexicon import pronounce
from chorus_text.ssml import Markup, compile_ssml, features_of, join_words
from chorus_text.ssml.values import MAX_RATE, MAX_VOLUME_DB, MIN_RATE, MIN_VOLUME_DB

DROPPED_HEADER = "X-Chorus-Markup-Dropped"
APPROXIMATED_HEADER = "X-Chorus-Markup-Approximated"
# Header values name elements from the user's markup: printable ASCII, bounded.
_UNSAFE = re.compile(r"[^A-Za-z0-9 ,._:=\"-]")
_MAX_HEADER_CHARS = 512
# The segment field of each feature an engine may leave out without changing anything else.
_IGNORABLE = {"prosody-pitch": "pitch", "emphasis": "emphasis", "phoneme": "phonemes"}
_STYLE = {"rate", "pitch", "volume_db", "emphasis", "language", "voice"}
# An `<emphasis>` an engine cannot stress is said slower and louder (or, reduced, faster
# and softer), which every engine can do: (rate factor, decibels), as speakers stress a word.
_EMPHASIS_AS_PROSODY = {
    "strong": (0.85, 4.0),
    "moderate": (0.92, 2.0),
    "reduced": (1.1, -4.0),
    "none": (1.0, 0.0),
}


def request_markup(
    request: SpeechRequest, lexicons: AppliedLexicons | None = None
) -> Markup | None:
    """The request's SSML compiled, its words cleaned as plain input is; plain text as one
    segment when a lexicon entry matches it (each provider's segments apply the entries);
    else None."""
    if request.is_ssml:
        return compile_markup(request.input)
    if lexicons is None:
        return None
    segments = [SpeechSegment(text=clean_text(request.input))]
    # An engine that takes phonemes is the one for which every entry changes something.
    if pronounce(segments, lexicons.lexicon, request.lang_code, phonemes=True) == segments:
        return None  # plain text that no entry matches stays plain text
    return Markup(segments, [])


def compile_markup(source: str) -> Markup:
    """An SSML document compiled, its words cleaned as plain input is; a 400 naming the
    problem and where it is for a document that is not SSML Chorus speaks."""
    markup = compile_ssml(source)
    segments = [s.model_copy(update={"text": clean_text(s.text)}) for s in markup.segments]
    return Markup(segments, markup.dropped)


def provider_segments(
    markup: Markup,
    request: SpeechRequest,
    handle: ProviderHandle,
    language: str | None,
    lexicons: AppliedLexicons | None = None,
) -> list[SpeechSegment]:
    """`markup`'s segments as `handle`'s provider gets them, the `lexicons` applied as it
    can take them; `language` is the one it speaks the request's text in
    (spoken_text.spoken_language)."""
    caps = handle.capabilities
    segments = markup.segments
    if lexicons is not None and not (caps is not None and caps.pronunciation_dictionary):
        # A provider not yet heard from keeps phonemes, as it keeps every other feature.
        phonemes = caps is None or "phoneme" in caps.markup
        segments = pronounce(segments, lexicons.lexicon, language, phonemes=phonemes)
    fitted: list[SpeechSegment] = []
    for segment in segments:
        own = segment.language if segment.language and handle.speaks(segment.language) else None
        voice = handle.engine_voice(segment.voice) if segment.voice else None
        text = segment.text
        if not (caps is not None and caps.normalizes_text):
            text = normalize_text(text, request.normalization_options, own or language)
        update: dict[str, object] = {"text": text, "language": own, "voice": voice}
        if request.timestamps != "word":
            # Only word timings show the written form; untimed, its words join their neighbours.
            update["written"] = None
        if caps is not None:
            taken = {*caps.markup, *caps.instructed_markup}
            if segment.emphasis is not None and "emphasis" not in taken:
                update |= _emphasis_as_prosody(segment, segment.emphasis)
            # A feature the engine ignores would still cut its words into utterances.
            update |= {f: None for name, f in _IGNORABLE.items() if name not in taken}
        _append(fitted, segment.model_copy(update=update))
    return fitted


def _emphasis_as_prosody(segment: SpeechSegment, emphasis: Emphasis) -> dict[str, object]:
    """The rate and volume that approximate `segment`'s `emphasis`, within a segment's range."""
    factor, decibels = _EMPHASIS_AS_PROSODY[emphasis]
    return {
        "rate": min(max(segment.rate * factor, MIN_RATE), MAX_RATE),
        "volume_db": min(max(segment.volume_db + decibels, MIN_VOLUME_DB), MAX_VOLUME_DB),
    }


def _append(segments: list[SpeechSegment], segment: SpeechSegment) -> None:
    """`segment` after `segments`, joined to the last one when nothing tells them apart, so
    the engine speaks them as one utterance."""
    last = segments[-1] if segments else None
    if (
        last is not None
        and not last.pause_ms
        and not segment.marks
        and last.phonemes is None
        and segment.phonemes is None
        and last.written is None
        and segment.written is None
        and last.model_dump(include=_STYLE) == segment.model_dump(include=_STYLE)
    ):
        joined = join_words([last.text, segment.text])
        segments[-1] = last.model_copy(update={"text": joined, "pause_ms": segment.pause_ms})
    else:
        segments.append(segment)


def approximated(markup: Markup, sent: list[SpeechSegment], caps: Capabilities | None) -> list[str]:
    """The markup features the request asks for that the provider's audio will not carry
    as written: those its capabilities do not list, and a language or voice it lacks."""
    honoured = set(caps.markup) if caps is not None else set()
    asked = set().union(*(features_of(s) for s in markup.segments))
    carried = set().union(*(features_of(s) for s in sent))
    return sorted(f for f in asked if f not in honoured or f not in carried)


def identity(segments: list[SpeechSegment], lexicons: tuple[str, ...] = ()) -> str:
    """The segments as canonical JSON, with the versions of the lexicons applied to them:
    what a cached response of marked-up input is keyed by."""
    said: object = [s.model_dump(exclude_defaults=True) for s in segments]
    return json.dumps(
        {"segments": said, "lexicons": list(lexicons)} if lexicons else said,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )


def markup_headers(dropped: list[str], approximations: list[str]) -> dict[str, str]:
    """The response headers that name dropped elements and approximated features."""
    headers = {}
    if dropped:
        headers[DROPPED_HEADER] = _header_value(dropped)
    if approximations:
        headers[APPROXIMATED_HEADER] = _header_value(approximations)
    return headers


def _header_value(names: list[str]) -> str:
    return _UNSAFE.sub("?", ", ".join(names))[:_MAX_HEADER_CHARS]
