"""SSML compiled to segments: the one form every engine's input is made from.

The tree is walked with the style in force (rate, pitch, volume, emphasis, language,
voice). Words of one style join one segment; a change of style, a break, a sentence or
paragraph edge, a phoneme or a mark starts the next. Elements outside the supported set
lose their tag (their words are still spoken) and are reported as dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from chorus_contracts import MAX_PAUSE_MS, InvalidRequest, SpeechSegment
from chorus_contracts.provider import MAX_SEGMENTS, MAX_WRITTEN_CHARS, Emphasis
from chorus_text.ssml.document import Element, parse_document
from chorus_text.ssml.say_as import KINDS, say_as
from chorus_text.ssml.values import (
    BREAK_STRENGTHS_MS,
    MAX_RATE,
    MAX_VOLUME_DB,
    MIN_RATE,
    MIN_VOLUME_DB,
    break_ms,
    rate_factor,
    volume_db,
)

PARAGRAPH_PAUSE_MS = BREAK_STRENGTHS_MS["medium"]
MAX_MARKS_TOGETHER = 64
_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"\w")
_CLOSES = re.compile(r"[,.;:!?)\]}…]")
_ENDS_SENTENCE = re.compile(r"[.!?…;:]\W*$")
_EMPHASIS_LEVELS = ("strong", "moderate", "reduced", "none")


@dataclass(frozen=True)
class Markup:
    """A compiled SSML input: its segments, and the elements that were dropped."""

    segments: list[SpeechSegment]
    dropped: list[str]

    @property
    def text(self) -> str:
        """The words alone, in order: what an engine that takes no markup speaks."""
        return join_words(s.text for s in self.segments)


def join_words(parts: Iterable[str]) -> str:
    """Segments' words as one text: a space between them, none before the punctuation
    that a segment may start with (", and then" after a `<prosody>`)."""
    joined = ""
    for part in parts:
        if part:
            joined += part if not joined or _CLOSES.match(part) else f" {part}"
    return joined


@dataclass(frozen=True)
class _Style:
    rate: float = 1.0
    pitch: str | None = None
    volume_db: float = 0.0
    emphasis: Emphasis | None = None
    language: str | None = None
    voice: str | None = None


@dataclass
class _Builder:
    segments: list[SpeechSegment] = field(default_factory=list)
    words: list[str] = field(default_factory=list)
    style: _Style = field(default_factory=_Style)
    marks: list[str] = field(default_factory=list)
    dropped: dict[str, None] = field(default_factory=dict)

    def say(self, text: str, style: _Style) -> None:
        text = _SPACES.sub(" ", text)
        if not text.strip():
            if self.words:
                self.words.append(" ")
            return
        if style != self.style:
            if "".join(self.words).strip():
                self.close()
            self.style = style
        self.words.append(text)

    def close(
        self,
        pause_ms: int = 0,
        phonemes: str | None = None,
        *,
        written: str | None = None,
        end: bool = False,
    ) -> None:
        """End the segment being built, with a pause after it; marks with no words after
        them yet wait for the next words, or the document's `end`. `written`: what the
        input wrote for these words, when they are said otherwise."""
        text = "".join(self.words).strip()
        self.words = []
        if not text and not pause_ms and not (end and self.marks):
            return
        if text and not _WORD.search(text) and self.segments and phonemes is None:
            # Punctuation alone (", " after a </prosody>) belongs to the words before it.
            last = self.segments[-1]
            self.segments[-1] = last.model_copy(update={"text": join_words([last.text, text])})
            text = ""
        if not text and self.segments and not self.marks and phonemes is None:
            # A pause after a pause (or a break right after a segment ended) adds up.
            last = self.segments[-1]
            pause = min(last.pause_ms + pause_ms, MAX_PAUSE_MS)
            self.segments[-1] = last.model_copy(update={"pause_ms": pause})
            return
        if len(self.segments) >= MAX_SEGMENTS:
            raise InvalidRequest(
                f"SSML makes more than {MAX_SEGMENTS} segments (breaks, style changes); "
                "send it in several requests",
                param="input",
            )
        style = self.style
        self.segments.append(
            SpeechSegment(
                text=text,
                pause_ms=pause_ms,
                rate=style.rate,
                pitch=style.pitch,
                volume_db=style.volume_db,
                emphasis=style.emphasis,
                phonemes=phonemes,
                language=style.language,
                voice=style.voice,
                marks=self.marks,
                written=written if written and len(written) <= MAX_WRITTEN_CHARS else None,
            )
        )
        self.marks = []

    def say_instead(self, written: str, said: str, style: _Style) -> None:
        """`said` spoken where the input wrote `written`: a segment of its own, so its
        words' timings can show what was written."""
        self.close()
        self.say(said, style)
        self.close(written=_SPACES.sub(" ", written).strip())


def features_of(segment: SpeechSegment) -> set[str]:
    """The markup features (MARKUP_FEATURES) a segment asks of an engine."""
    asked = {
        "break": segment.pause_ms > 0,
        "prosody-rate": segment.rate != 1.0,
        "prosody-pitch": segment.pitch is not None,
        "prosody-volume": segment.volume_db != 0.0,
        "emphasis": segment.emphasis is not None,
        "phoneme": segment.phonemes is not None,
        "lang": segment.language is not None,
        "voice": segment.voice is not None,
    }
    return {feature for feature, used in asked.items() if used}


def compile_ssml(source: str) -> Markup:
    """`source` (an SSML document) as segments; a 400 naming line and column for malformed
    or hostile XML, and for an attribute value that cannot be read."""
    builder = _Builder()
    _children(parse_document(source), _Style(), builder)
    builder.close(end=True)
    if not any(s.text for s in builder.segments):
        raise InvalidRequest("the SSML contains no text to speak", param="input")
    return Markup(builder.segments, list(builder.dropped))


def _walk(element: Element, style: _Style, builder: _Builder) -> None:
    try:
        _element(element, style, builder)
    except ValueError as exc:
        raise element.refuse(str(exc)) from None


def _children(element: Element, style: _Style, builder: _Builder) -> None:
    for child in element.children:
        if isinstance(child, str):
            builder.say(child, style)
        else:
            _walk(child, style, builder)


def _element(element: Element, style: _Style, builder: _Builder) -> None:
    tag, attrs = element.tag, element.attributes
    if tag == "break":
        builder.close(break_ms(attrs.get("time"), attrs.get("strength")))
    elif tag in ("s", "sentence", "p", "paragraph"):
        builder.close()
        _children(element, style, builder)
        _end_sentence(builder)
        builder.close(PARAGRAPH_PAUSE_MS if tag in ("p", "paragraph") else 0)
    elif tag == "prosody":
        _children(element, _prosody(element, style), builder)
    elif tag == "emphasis":
        level = attrs.get("level", "moderate")
        if level not in _EMPHASIS_LEVELS:
            raise ValueError(f'level="{level}" is not one of {", ".join(_EMPHASIS_LEVELS)}')
        _children(element, replace(style, emphasis=level), builder)  # type: ignore[arg-type]
    elif tag == "say-as":
        _say_as(element, style, builder)
    elif tag == "sub":
        builder.say_instead(_text_of(element), _required(element, "alias"), style)
    elif tag == "phoneme":
        _phoneme(element, style, builder)
    elif tag == "lang":
        language = _required(element, "xml:lang", max_chars=32)
        _children(element, replace(style, language=language), builder)
    elif tag == "voice":
        _children(element, replace(style, voice=_required(element, "name")), builder)
    elif tag == "mark":
        builder.close()
        if len(builder.marks) >= MAX_MARKS_TOGETHER:
            raise ValueError(f"is one of more than {MAX_MARKS_TOGETHER} marks in one place")
        builder.marks.append(_required(element, "name"))
    else:
        builder.dropped.setdefault(tag, None)
        _children(element, style, builder)


def _prosody(element: Element, style: _Style) -> _Style:
    attrs = element.attributes
    # Nested prosody multiplies (rates) and adds up (volumes), within what one value may say.
    if "rate" in attrs:
        rate = style.rate * rate_factor(attrs["rate"])
        style = replace(style, rate=min(max(rate, MIN_RATE), MAX_RATE))
    if "volume" in attrs:
        volume = style.volume_db + volume_db(attrs["volume"])
        style = replace(style, volume_db=min(max(volume, MIN_VOLUME_DB), MAX_VOLUME_DB))
    if "pitch" in attrs:
        pitch = attrs["pitch"].strip()
        if not pitch or len(pitch) > 32:
            raise ValueError(f'pitch="{pitch}" is not a pitch such as "high" or "+10%"')
        style = replace(style, pitch=pitch)
    return style


def _say_as(element: Element, style: _Style, builder: _Builder) -> None:
    kind = _required(element, "interpret-as")
    text = _text_of(element)
    if kind not in KINDS:
        builder.dropped.setdefault(f'say-as interpret-as="{kind}"', None)
        builder.say(text, style)
        return
    builder.say_instead(text, say_as(text, kind, element.attributes.get("format")), style)


def _phoneme(element: Element, style: _Style, builder: _Builder) -> None:
    alphabet = element.attributes.get("alphabet", "ipa")
    text = _text_of(element)
    if alphabet != "ipa":
        # Only IPA maps onto the engines' phonemes; the words are still said.
        builder.dropped.setdefault(f'phoneme alphabet="{alphabet}"', None)
        builder.say(text, style)
        return
    ipa = _required(element, "ph", max_chars=2000).strip()
    builder.close()
    builder.say(text or ipa, style)
    builder.close(phonemes=ipa)


def _text_of(element: Element) -> str:
    """The text directly inside `element` (`<sub>`, `<say-as>` and `<phoneme>` hold only text)."""
    return "".join(c for c in element.children if isinstance(c, str))


def _end_sentence(builder: _Builder) -> None:
    """A sentence element ends its sentence for the splitter too."""
    text = "".join(builder.words).rstrip()
    if text and not _ENDS_SENTENCE.search(text):
        builder.words = [text, "."]


def _required(element: Element, name: str, max_chars: int = 200) -> str:
    value = element.attributes.get(name)
    if value is None or not value.strip():
        raise ValueError(f'needs a {name}="..." attribute')
    if len(value) > max_chars:
        raise ValueError(f"{name} is longer than {max_chars} characters")
    return value
