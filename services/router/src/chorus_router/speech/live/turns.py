"""A turn of a live session: text between two flushes, spoken by one provider in one voice.

A turn is a span (its provider attempts inside it, under the session's span) and the
events that tell the client about it: its word timings, and its usage once done.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import Span, Status, StatusCode

from chorus_contracts import ChorusError, WordTimestamp
from chorus_router.metrics import RouterMetrics
from chorus_router.speech.live.config import SessionConfig

tracer = trace.get_tracer("chorus.router")


@dataclass(eq=False)
class Turn:
    """One turn; `begin` one in the session's trace context."""

    id: str
    config: SessionConfig
    # The custom voice's reference sample, for cloning providers.
    voice_reference: str | None
    span: Span
    begun: float = field(default_factory=time.perf_counter)
    flushed: float | None = None
    provider: str | None = None
    heard: bool = False
    # Set by whichever task saw the failure: the turn speaks no more.
    failed: bool = False
    # What ended it, told to the client once.
    error: ChorusError | None = None
    characters: int = 0
    audio_seconds: float = 0.0

    @classmethod
    def begin(cls, config: SessionConfig, voice_reference: str | None) -> Turn:
        turn_id = uuid.uuid4().hex[:12]
        span = tracer.start_span("tts.live_turn", attributes={"tts.live.turn_id": turn_id})
        return cls(turn_id, config, voice_reference, span)

    def first_audio(self, metrics: RouterMetrics) -> None:
        """Its first audio is leaving: time it from the first fragment, and from the flush
        when the flush came first (how long the client waited)."""
        self.heard = True
        now = time.perf_counter()
        metrics.live_first_audio.labels("first_text").observe(now - self.begun)
        if self.flushed is not None:
            metrics.live_first_audio.labels("flush").observe(now - self.flushed)
        self.span.add_event("first audio")

    def end(self, cancelled: bool = False) -> None:
        """The span ends with what the turn did."""
        span = self.span
        span.set_attribute("tts.characters", self.characters)
        span.set_attribute("tts.audio_seconds", round(self.audio_seconds, 3))
        if cancelled:
            span.set_attribute("tts.live.cancelled", True)
        if self.provider is not None:
            span.set_attribute("tts.provider", self.provider)
        if self.error is not None:
            span.set_status(Status(StatusCode.ERROR, self.error.message))
            span.set_attribute("tts.error_code", self.error.code)
        span.end()

    def timestamps_event(self, words: list[WordTimestamp], offset: float) -> dict[str, Any]:
        """Word timings of a piece that starts `offset` seconds into the turn."""
        shifted = [
            {"word": w.word, "start_time": w.start_time + offset, "end_time": w.end_time + offset}
            for w in words
        ]
        return {"type": "speech.audio.timestamps", "turn_id": self.id, "timestamps": shifted}

    def done_event(self) -> dict[str, Any]:
        return {
            "type": "speech.audio.done",
            "turn_id": self.id,
            "provider": self.provider,
            "usage": {
                "characters": self.characters,
                "audio_seconds": round(self.audio_seconds, 3),
            },
        }
