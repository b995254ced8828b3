"""The Engine: the only part that differs between provider services."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import ClassVar

from chorus_contracts import (
    MARKUP_FEATURES,
    Capabilities,
    InvalidRequest,
    SpeechSegment,
    SynthesisRequest,
    TextChunking,
    WordTimestamp,
)
from chorus_provider.cancel import Cancelled, CancelSignal
from chorus_provider.settings import ProviderSettings
from chorus_provider.shaping import shaped, silence
from chorus_provider.timings import written_timing
from chorus_text import ends_clause, ends_sentence, speech_pieces


@dataclass(frozen=True)
class Words:
    """Word timings of the audio an engine yields next, in seconds from that audio's start,
    and the names of the SSML marks that fall at that audio's start."""

    words: list[WordTimestamp]
    marks: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rendering:
    """One piece's audio with its word timings (from the piece's first sample)."""

    pcm: bytes
    words: list[WordTimestamp] = field(default_factory=list)


@dataclass(frozen=True)
class Join:
    """Where a piece meets its neighbours inside one sentence (the short first piece and the
    rest): the piece before it when it continues that piece's sentence, and the next
    piece's first word when it stops inside its sentence ("" at a sentence's edge); `last`
    when no piece of the request follows it (what the pieces held may be let go)."""

    before: str = ""
    after: str = ""
    last: bool = False


CLAUSE_PAUSE_S = 0.12
# Between segments that meet without a break: after a sentence, and inside one.
SENTENCE_PAUSE_S = 0.3
WORD_GAP_S = 0.05
# What every SentenceEngine does with a segment: a break is exactly that much silence, a
# rate scales the speed, a volume the samples; a language or voice picks the engine's own.
_HONOURED_BY_EVERY_ENGINE = ("break", "prosody-rate", "prosody-volume", "lang", "voice")


@dataclass(frozen=True)
class _Span:
    """One segment, the request as styled for it, and the pieces it is spoken in."""

    segment: SpeechSegment
    request: SynthesisRequest
    pieces: list[str]

    @property
    def written(self) -> str | None:
        """What the input wrote for this segment's words, when they are said otherwise."""
        segment = self.segment
        return segment.written or (segment.text.strip() if segment.phonemes else None)


def _gap_after(span: _Span) -> float:
    """Seconds of silence between a segment and the next: its break, else the pause its
    last words end on."""
    if span.segment.pause_ms:
        return span.segment.pause_ms / 1000
    last = span.pieces[-1] if span.pieces else ""
    if ends_sentence(last):
        return SENTENCE_PAUSE_S
    return CLAUSE_PAUSE_S if ends_clause(last) else WORD_GAP_S


class Engine(ABC):
    """A TTS engine behind the provider contract.

    `load()` runs once at start-up (the service is not ready until it returns);
    `synthesize()` yields s16le mono PCM at `capabilities().sample_rate`, and, when its
    capabilities say `timestamps: "word"` and the request asks, `Words` before the audio
    they time. Errors raised before the first chunk become typed HTTP errors; later ones
    abort the stream. When `cancel` is set nobody waits for the audio any more: stop as
    soon as possible (the app also cancels the task iterating the stream, which interrupts
    plain awaits).
    """

    # The settings a provider service loads for this engine and builds it with
    # (`chorus_provider.serve`); each provider's engine names its own.
    settings_class: ClassVar[type[ProviderSettings]]

    @abstractmethod
    async def load(self) -> None: ...

    @abstractmethod
    def capabilities(self) -> Capabilities: ...

    @abstractmethod
    def synthesize(
        self, request: SynthesisRequest, cancel: CancelSignal
    ) -> AsyncIterator[bytes | Words]: ...

    @property
    def chunking(self) -> TextChunking | None:
        """How this engine splits text (its capabilities say so); None: it does not."""
        return None

    def readiness(self) -> str | None:
        """A note for `/readyz` once loaded (e.g. weights unloaded while idle), or None."""
        return None

    async def close(self) -> None:  # noqa: B027 - optional hook, most engines hold nothing
        """Release what `load()` took; the default has nothing to release."""


class SentenceEngine(Engine):
    """A local engine whose CPU-bound work runs piece by piece in worker threads.

    Pieces are sentences (the first one maybe shorter, see `chorus_text.sentences`). Audio
    leaves after each piece. `render` gets the request's cancel signal and should abort
    inside the piece where its library can; a cancelled request never starts another
    piece. The slot stays held until the worker thread has returned, so "in flight" means
    the engine is really computing.
    """

    # Markup this engine honours beyond what every sentence engine does (e.g. a pitch).
    native_markup: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *, workers: int, chunking: TextChunking) -> None:
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="engine")
        self._chunking = chunking
        # Told each piece's length as it is synthesized (the service's metrics).
        self.on_piece: Callable[[int], None] = lambda _: None

    @property
    def chunking(self) -> TextChunking:
        return self._chunking

    @abstractmethod
    def check(self, request: SynthesisRequest) -> None:
        """Refuse what this engine cannot do (unknown voice, bad extra) before any audio."""

    def text_language(self, request: SynthesisRequest) -> str | None:
        """The language this engine reads `request`'s text in, for the splitter's phrase
        rules (None: English, as the router normalizes it); engines that pick one from the
        voice say so."""
        return request.language

    @abstractmethod
    def render(
        self, piece: str, request: SynthesisRequest, cancel: CancelSignal
    ) -> bytes | Rendering:
        """Synthesize one piece to PCM, timed when asked and able; blocking, called in a
        worker thread.

        Once `cancel` is set, stop and raise: any error is then taken as `Cancelled`.
        """

    def render_joined(
        self, piece: str, join: Join, request: SynthesisRequest, cancel: CancelSignal
    ) -> bytes | Rendering:
        """`render` for a piece that meets another inside its sentence; engines that can
        speak it in the context of its neighbours, so its edges keep their sentence's sound,
        override this."""
        return self.render(piece, request, cancel)

    def render_phonemes(
        self, phonemes: str, request: SynthesisRequest, cancel: CancelSignal
    ) -> bytes | Rendering | None:
        """Speak IPA `phonemes` (an SSML `<phoneme>`); None when this engine cannot, and the
        segment's words are spoken instead. Engines that phonemize with espeak-ng override it."""
        return None

    def markup(self) -> list[str]:
        """The markup features this engine honours in its audio, for its capabilities."""
        speaks_ipa = type(self).render_phonemes is not SentenceEngine.render_phonemes
        honoured = {*_HONOURED_BY_EVERY_ENGINE, *self.native_markup, *(["phoneme"] * speaks_ipa)}
        return [feature for feature in MARKUP_FEATURES if feature in honoured]

    async def synthesize(
        self, request: SynthesisRequest, cancel: CancelSignal
    ) -> AsyncIterator[bytes | Words]:
        self.check(request)
        spans = self._spans(request)
        if not any(span.pieces for span in spans):
            raise InvalidRequest("text contains nothing to speak", param="text")
        rate = self.capabilities().sample_rate
        for number, span in enumerate(spans):
            pieces = span.pieces
            # A segment's marks fall where its first audio starts, after the gap before it.
            marks = tuple(span.segment.marks)
            final = number == len(spans) - 1
            # Where segments meet, the engine's own edge silence goes: the markup says
            # what the gap is (a break, or the pause of a sentence, clause or word).
            meets_next = not final or span.segment.pause_ms > 0
            for index, (piece, join) in enumerate(zip(pieces, _joins(pieces, final), strict=True)):
                made = await self._rendered(piece, join, span, cancel)
                at_end = meets_next and index == len(pieces) - 1
                pcm, words = (made.pcm, made.words) if isinstance(made, Rendering) else (made, [])
                pcm, words = shaped(
                    pcm, words, rate, span.segment, start=index == 0 and number > 0, end=at_end
                )
                if span.written and span.request.timestamps:
                    # Shown once, over its first piece, in the rare span long enough for two.
                    words = written_timing(span.written, words, pcm, rate) if index == 0 else []
                if words or marks:
                    yield Words(words, marks)
                    marks = ()
                if pcm:
                    # A piece that stops inside its sentence (the short first one) ends on a
                    # clause pause, as a speaker breathes at a comma, so the join is heard
                    # as one.
                    yield pcm if at_end or ends_sentence(piece) else pcm + self._clause_pause()
            if marks:
                # No words follow them (the document's end): they fall where the audio ends.
                yield Words([], marks)
            if meets_next:
                yield silence(_gap_after(span), rate)

    async def _rendered(
        self, piece: str, join: Join, span: _Span, cancel: CancelSignal
    ) -> bytes | Rendering:
        """One piece rendered in a worker thread, which keeps the slot until it returns."""
        self.on_piece(len(piece))
        cancel.raise_if_set()
        loop = asyncio.get_running_loop()
        work = loop.run_in_executor(self._executor, self._render_piece, piece, join, span, cancel)
        try:
            return await asyncio.shield(work)
        except asyncio.CancelledError:
            # The caller stopped waiting: abort the piece and keep the slot until the
            # worker thread is really free again.
            cancel.set()
            await asyncio.wait([work])
            if not work.cancelled():
                work.exception()  # retrieved: an aborted piece's error means nothing now
            raise
        except Exception:
            if cancel.is_set:
                # The library's abort surfaces as its own error type.
                raise Cancelled("the synthesis was cancelled") from None
            raise

    def _spans(self, request: SynthesisRequest) -> list[_Span]:
        """The request's segments, each with the request as styled for it and its pieces; a
        plain request is one span of its text."""
        if request.segments is None:
            pieces = speech_pieces(request.text, self._chunking, self.text_language(request))
            return [_Span(SpeechSegment(text=request.text), request, pieces)]
        low, high = self.capabilities().speed_range
        spans: list[_Span] = []
        for segment in request.segments:
            styled = request.model_copy(
                update={
                    # What the engine cannot reach is approximated by the nearest it can.
                    "speed": min(max(request.speed * segment.rate, low), high),
                    "language": segment.language or request.language,
                    "voice": segment.voice or request.voice,
                    "segments": [segment],
                }
            )
            if styled.voice != request.voice or styled.language != request.language:
                self.check(styled)
            # Only the request's first piece is cut short for an early first audio.
            chunking = (
                self._chunking.model_copy(update={"first_piece_max_words": 0})
                if spans
                else self._chunking
            )
            text = segment.text.strip()
            pieces = (
                ([text] if text else [])
                if segment.phonemes
                else speech_pieces(text, chunking, self.text_language(styled))
            )
            spans.append(_Span(segment, styled, pieces))
        return spans

    def _render_piece(
        self, piece: str, join: Join, span: _Span, cancel: CancelSignal
    ) -> bytes | Rendering:
        if span.segment.phonemes is not None:
            made = self.render_phonemes(span.segment.phonemes, span.request, cancel)
            if made is not None:
                return made
        return self.render_joined(piece, join, span.request, cancel)

    def _clause_pause(self) -> bytes:
        return bytes(2 * round(CLAUSE_PAUSE_S * self.capabilities().sample_rate))

    async def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def _joins(pieces: list[str], final: bool = True) -> list[Join]:
    """Each piece's neighbours inside its sentence (`final`: no piece follows these)."""
    joins = []
    for index, piece in enumerate(pieces):
        before = pieces[index - 1] if index and not ends_sentence(pieces[index - 1]) else ""
        following = index + 1 < len(pieces) and not ends_sentence(piece)
        after = pieces[index + 1].split(" ")[0] if following else ""
        joins.append(Join(before, after, last=final and index == len(pieces) - 1))
    return joins
