"""One synthesis as an ASGI response that owns it from admission to the last byte.

Everything happens inside the response's own call, so there is no gap in which a request
the client has left can hold an engine slot: a watcher on `receive` notices the
disconnect (before the first byte as well as after), sets the request's `CancelSignal`
and cancels the task that runs the engine. Errors before the first audio byte are raised
to the app's error handlers, which answer them in the contract's JSON shape.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import suppress

from opentelemetry import trace
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from chorus_contracts import (
    FIRST_AUDIO_METRIC,
    SAMPLE_RATE_HEADER,
    SERVER_TIMING_HEADER,
    TIMED_AUDIO_CONTENT_TYPE,
    ChorusError,
    InternalError,
    SynthesisRequest,
    pcm_content_type,
    run_while_connected,
    timing_entry,
)
from chorus_provider.admission import Admission
from chorus_provider.body import BodyWriter
from chorus_provider.cancel import Cancelled, CancelSignal
from chorus_provider.engine import Engine, Words
from chorus_provider.metrics import ProviderMetrics

log = logging.getLogger("chorus.provider")
tracer = trace.get_tracer("chorus.provider")


class SynthesisResponse(Response):
    """The streamed PCM of one synthesis (timed-audio frames when word timings are asked);
    the client leaving cancels the synthesis."""

    def __init__(
        self,
        engine: Engine,
        request: SynthesisRequest,
        admission: Admission,
        metrics: ProviderMetrics,
        sample_rate: int,
    ) -> None:
        self.status_code = 200
        self.media_type = (
            TIMED_AUDIO_CONTENT_TYPE if request.timestamps else pcm_content_type(sample_rate)
        )
        self.background = None
        self.init_headers({SAMPLE_RATE_HEADER: str(sample_rate)})
        self.cancel = CancelSignal()
        self._synthesis = _Synthesis(engine, request, admission, metrics, sample_rate)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await run_while_connected(
            self._synthesis.run(self.raw_headers, send, self.cancel), receive, self.cancel.set
        )


class _Synthesis:
    """Admission, the engine's stream and its accounting, ending in exactly one outcome."""

    def __init__(
        self,
        engine: Engine,
        request: SynthesisRequest,
        admission: Admission,
        metrics: ProviderMetrics,
        sample_rate: int,
    ) -> None:
        self._engine = engine
        self._request = request
        self._admission = admission
        self._metrics = metrics
        self._bytes_per_second = 2 * sample_rate
        self._writer = BodyWriter(timed=request.timestamps, sample_rate=sample_rate)
        self._started = time.perf_counter()
        self._span = tracer.start_span(
            "tts.synthesize",
            attributes={"tts.text_length": len(request.text), "tts.voice": request.voice},
        )

    async def run(
        self, headers: list[tuple[bytes, bytes]], send: Send, cancel: CancelSignal
    ) -> None:
        outcome = "cancelled"
        admitted = False
        try:
            slot = self._admission.slot()
            with tracer.start_as_current_span(
                "tts.queue", context=trace.set_span_in_context(self._span)
            ):
                await slot.__aenter__()
            admitted = True
            admitted_at = time.perf_counter()
            self._metrics.queue_wait_seconds.observe(admitted_at - self._started)
            cancelled_at: list[float] = []
            cancel.on_cancel(lambda: cancelled_at.append(time.perf_counter()))
            try:
                outcome = await self._stream(headers, send, cancel)
                audio_s = self._writer.audio_bytes / self._bytes_per_second
                self._admission.served(time.perf_counter() - admitted_at, audio_s)
            finally:
                await slot.__aexit__(None, None, None)
                if cancelled_at:
                    self._metrics.cancel_to_idle_seconds.observe(
                        time.perf_counter() - cancelled_at[0]
                    )
        except ChorusError as exc:
            outcome = exc.code
            raise
        except Cancelled:
            outcome = "cancelled"
        except asyncio.CancelledError:
            outcome = "cancelled"
            raise
        except OSError:
            outcome = "cancelled"  # the connection went away under a send
        except _Aborted:
            outcome = "aborted"
            raise
        except Exception:
            outcome = "error"
            log.exception("engine failed before producing audio")
            raise InternalError("engine failed before producing audio") from None
        finally:
            self._account(outcome, admitted)

    async def _stream(
        self, headers: list[tuple[bytes, bytes]], send: Send, cancel: CancelSignal
    ) -> str:
        chunks = aiter(self._engine.synthesize(self._request, cancel))
        try:
            first = await self._first_audio(chunks)
            if not first:
                cancel.raise_if_set()
                raise InternalError("engine produced no audio")
            first_chunk_s = time.perf_counter() - self._started
            self._metrics.first_chunk_seconds.observe(first_chunk_s)
            self._span.set_attribute("tts.first_chunk_s", first_chunk_s)
            timing = timing_entry(FIRST_AUDIO_METRIC, first_chunk_s).encode()
            headers = [*headers, (SERVER_TIMING_HEADER.lower().encode(), timing)]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await self._send(send, first)
            try:
                async for chunk in chunks:
                    await self._send(send, self._writer.write(chunk))
            except (Cancelled, asyncio.CancelledError, OSError):
                raise
            except Exception as exc:
                log.exception("engine failed mid-stream; aborting the response")
                raise _Aborted from exc
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return "ok"
        finally:
            with suppress(Exception):
                await chunks.aclose()  # type: ignore[attr-defined]

    async def _first_audio(self, chunks: AsyncIterator[bytes | Words]) -> bytes:
        """The body up to and including the first audio (timings may come before it); b""
        if the engine made none."""
        body = b""
        async for item in chunks:
            body += self._writer.write(item)
            if not isinstance(item, Words):
                return body
        return b""

    async def _send(self, send: Send, data: bytes) -> None:
        if data:
            await send({"type": "http.response.body", "body": data, "more_body": True})

    def _account(self, outcome: str, admitted: bool) -> None:
        self._metrics.outcome(outcome)
        if admitted:
            elapsed = time.perf_counter() - self._started
            audio_s = self._writer.audio_bytes / self._bytes_per_second
            self._metrics.synthesis_seconds.observe(elapsed)
            self._metrics.audio_seconds.inc(audio_s)
            if outcome == "ok" and audio_s > 0:
                self._metrics.real_time_factor.observe(elapsed / audio_s)
            self._span.set_attribute("tts.audio_seconds", audio_s)
        self._span.set_attribute("tts.outcome", outcome)
        if outcome not in ("ok", "cancelled"):
            self._span.set_status(trace.StatusCode.ERROR, outcome)
        self._span.end()


class _Aborted(Exception):
    """The engine failed after audio had left: the response ends without completing."""
