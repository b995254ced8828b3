"""Turning one provider stream into the client's response: encode, account, end cleanly.

What happens when the provider fails after the first byte is the request's failure policy's
to decide (policy.py): the response ends, or ends with the notice the policy hands back.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator
from typing import NamedTuple

from chorus_audio import OUTPUT_SAMPLE_RATE, AudioFormat, StreamEncoder, open_encoder, slices
from chorus_contracts import ChorusError, MarkTimestamp, WordTimestamp
from chorus_router.artifacts.capture import Capture
from chorus_router.metrics import RouterMetrics
from chorus_router.speech.encoding import EncodingPool
from chorus_router.speech.policy import FailurePolicy
from chorus_router.speech.upstream import ProviderStream

log = logging.getLogger("chorus.router.delivery")


class TimedAudio(NamedTuple):
    """A piece of the encoded audio, with the word timings and SSML marks that arrived
    since the previous piece (in seconds from the start of the stream)."""

    audio: bytes
    words: list[WordTimestamp]
    marks: list[MarkTimestamp]


class Delivery:
    """One response's audio: encoded chunk by chunk, with its metrics recorded once."""

    def __init__(
        self,
        stream: ProviderStream,
        *,
        policy: FailurePolicy,
        metrics: RouterMetrics,
        encoding: EncodingPool,
        fmt: AudioFormat,
        model_label: str,
        request_id: str,
        started: float,
        text_fields: dict[str, object],
        capture: Capture | None = None,
        sample_rate: int = OUTPUT_SAMPLE_RATE,
    ) -> None:
        self._stream = stream
        self._policy = policy
        self._metrics = metrics
        self._encoding = encoding
        self._fmt = fmt
        # The client's rate (a live session may ask for one); OpenAI's 24 kHz by default.
        self._sample_rate = sample_rate
        self._model_label = model_label
        self._request_id = request_id
        self._started = started
        self._sent_bytes = 0
        self._pcm_bytes = 0
        self._first_byte_at: float | None = None
        self._text_fields = text_fields
        self._recorded = False
        # Keeps what is sent, to store it (download link, cache) if the response completes.
        self._capture = capture

    async def close(self) -> None:
        """End the request however far it got: the provider connection closes (the
        provider stops synthesizing) and a response never started counts as client_gone."""
        if not self._recorded:
            self._record("client_gone")
        self._policy.left(self._stream)
        await self._stream.close()

    @property
    def audio_seconds(self) -> float:
        """Seconds of audio the provider has sent so far."""
        return self._pcm_bytes / (2 * self._stream.sample_rate)

    async def audio(self) -> AsyncIterator[bytes]:
        # Unless it runs to its end or fails, iteration stops because the client left.
        status = "client_gone"
        encoder = open_encoder(self._fmt, self._stream.sample_rate, self._sample_rate)
        try:
            # The provider's stream, then (if it breaks off) the notice the policy gives.
            streams: list[ProviderStream] = [self._stream]
            while streams:
                stream = streams.pop()
                try:
                    async for data in self._encode(stream, encoder):
                        yield data
                    self._policy.ended(stream)
                except ChorusError as exc:
                    status = "aborted"
                    notice = await self._policy.broke_off(stream, exc)
                    if notice is None:
                        raise
                    streams.append(notice)
            tail = await self._encoding.finish(encoder)
            if tail:
                yield self._sent(tail)
            if status == "client_gone":
                status = "200"
                if self._capture is not None:
                    await self._capture.commit(self._stream.provider, self.audio_seconds)
        finally:
            encoder.close()
            if self._capture is not None:
                self._capture.discard()
            self._record(status)

    async def timed(self) -> AsyncGenerator[TimedAudio]:
        """The encoded audio, each piece with the word timings and marks that arrived since
        the last. A provider times a piece of text before its audio, so words and marks come
        with or before the first audio they time, never after; marks at the audio's end come
        last, with no audio."""
        told_words = told_marks = 0
        async for data in self.audio():
            words = self._stream.timestamps[told_words:]
            marks = self._stream.marks[told_marks:]
            told_words += len(words)
            told_marks += len(marks)
            yield TimedAudio(data, words, marks)
        # A mark at the very end comes after the last audio: it ends the stream, with none.
        marks = self._stream.marks[told_marks:]
        if marks:
            yield TimedAudio(b"", [], marks)

    async def sse(self) -> AsyncIterator[bytes]:
        """OpenAI's `speech.audio.delta` events, `speech.audio.done`; an error event on failure.

        With word timestamps asked, `speech.audio.timestamps` events come between the deltas,
        each before the first delta of the audio it times; the SSML marks reached are in
        their `marks`.
        """
        try:
            async for data, words, marks in self.timed():
                if words or marks:
                    yield _timestamps_event(words, marks)
                if data:
                    yield _event(
                        {"type": "speech.audio.delta", "audio": base64.b64encode(data).decode()}
                    )
        except ChorusError as exc:
            yield _event(
                {
                    "type": "error",
                    "error": {"type": exc.type, "code": exc.code, "message": exc.message},
                }
            )
            return
        yield _event({"type": "speech.audio.done"})

    async def _encode(self, stream: ProviderStream, encoder: StreamEncoder) -> AsyncIterator[bytes]:
        async for pcm in stream.chunks():
            self._pcm_bytes += len(pcm)
            for piece in slices(pcm, stream.sample_rate):
                data = await self._encoding.encode(encoder, piece)
                if data:
                    yield self._sent(data)

    def _sent(self, data: bytes) -> bytes:
        if self._first_byte_at is None:
            self._first_byte_at = time.perf_counter()
            self._metrics.time_to_first_byte.labels(self._stream.provider).observe(
                self._first_byte_at - self._started
            )
        self._sent_bytes += len(data)
        if self._capture is not None:
            self._capture.write(data)
        return data

    def _record(self, status: str) -> None:
        self._recorded = True
        provider = self._stream.provider
        duration = time.perf_counter() - self._started
        audio_seconds = self.audio_seconds
        self._metrics.requests.labels(self._model_label, provider, self._fmt, status).inc()
        self._metrics.request_duration.labels(provider).observe(duration)
        self._metrics.audio_size.labels(self._fmt).observe(self._sent_bytes)
        self._metrics.audio_duration.labels(provider).observe(audio_seconds)
        ttfb = None if self._first_byte_at is None else self._first_byte_at - self._started
        log.info(
            "speech request finished",
            extra={
                "request_id": self._request_id,
                "model": self._model_label,
                "provider": provider,
                "format": str(self._fmt),
                "outcome": status,
                "duration_ms": round(duration * 1000, 1),
                "first_byte_ms": None if ttfb is None else round(ttfb * 1000, 1),
                "audio_seconds": round(audio_seconds, 3),
                **self._text_fields,
            },
        )


def _timestamps_event(words: list[WordTimestamp], marks: list[MarkTimestamp]) -> bytes:
    event: dict[str, object] = {
        "type": "speech.audio.timestamps",
        "timestamps": [w.model_dump() for w in words],
    }
    if marks:
        event["marks"] = [m.model_dump() for m in marks]
    return _event(event)


def _event(payload: dict[str, object]) -> bytes:
    return f"data: {json.dumps(payload)}\n\n".encode()
