"""One synthesis call to one provider, up to and including its first PCM chunk."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
from httpx_aiohttp import AiohttpTransport

from chorus_contracts import (
    FIRST_AUDIO_METRIC,
    PROVIDER_METRIC,
    SAMPLE_RATE_HEADER,
    SERVER_TIMING_HEADER,
    TIMED_AUDIO_CONTENT_TYPE,
    ChorusError,
    FrameError,
    FrameReader,
    MarkTimestamp,
    SynthesisRequest,
    UpstreamError,
    UpstreamTimeout,
    WordTimestamp,
    error_from_response,
    retry_after_seconds,
    timing_entry,
    timing_ms,
)
from chorus_contracts.transport import transport_error
from chorus_router.routing.breakers import Permit
from chorus_router.routing.pool import ProviderHandle
from chorus_router.routing.replicas import ReplicaLease

_MAX_ERROR_BODY = 64 * 1024


@dataclass
class ProviderStream:
    """An open provider response whose first chunk has arrived; iterate for the rest."""

    handle: ProviderHandle
    # The replica serving it, counted in flight until the stream closes.
    lease: ReplicaLease
    voice: str
    # The sample a cloned voice was made from, so a spoken notice can use the same voice.
    voice_reference: str | None
    sample_rate: int
    first_chunk: bytes
    deadline: float
    _response: httpx.Response
    _chunks: AsyncIterator[bytes]
    # Word timings so far (from the start of the audio), when they were asked for; each
    # arrives before the audio it times.
    timestamps: list[WordTimestamp] = field(default_factory=list)
    # The SSML marks reached so far, each arriving before the audio it falls at.
    marks: list[MarkTimestamp] = field(default_factory=list)
    # The breaker's permit this call holds until the stream's end gives its verdict.
    permit: Permit | None = None
    # What the provider says its engine took to its first audio (Server-Timing), if it says.
    engine_first_audio_ms: float | None = None

    @property
    def provider(self) -> str:
        return self.handle.name

    def server_timing(self, first_audio_s: float) -> str:
        """The Server-Timing of a response whose first audio took the router
        `first_audio_s`: the provider's engine's part of it, when the provider told it."""
        router = timing_entry(FIRST_AUDIO_METRIC, first_audio_s)
        if self.engine_first_audio_ms is None:
            return router
        engine = timing_entry(PROVIDER_METRIC, self.engine_first_audio_ms / 1000, self.provider)
        return f"{engine}, {router}"

    async def chunks(self) -> AsyncIterator[bytes]:
        """All PCM, the first chunk included; a broken or overlong stream raises the typed
        error (the request's failure policy decides what follows)."""
        try:
            yield self.first_chunk
            async for chunk in self._chunks:
                yield chunk
                if time.monotonic() > self.deadline:
                    raise UpstreamTimeout(
                        f"provider {self.provider} exceeded its request timeout "
                        f"({self.handle.entry.routing.request_timeout_s:g}s)"
                    )
        except httpx.HTTPError as exc:
            raise transport_error(exc, f"provider {self.provider}") from exc
        finally:
            await self.close()

    async def close(self) -> None:
        self.lease.end()
        await self._response.aclose()


def provider_client(connect_timeout_s: float) -> httpx.AsyncClient:
    """The client the router's synthesis calls share. httpx's API over aiohttp's
    connections: the first chunk reaches the router about a millisecond sooner than over
    httpcore's (docs/performance.md, router overhead), and tests can still mount providers
    in-process. Each call sets its own read and first-byte timeouts."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(30.0, connect=connect_timeout_s),
        transport=AiohttpTransport(
            limits=httpx.Limits(max_connections=512, max_keepalive_connections=64)
        ),
    )


async def open_stream(
    client: httpx.AsyncClient,
    handle: ProviderHandle,
    lease: ReplicaLease,
    request: SynthesisRequest,
    *,
    background: bool = False,
) -> ProviderStream:
    """POST /v1/synthesize to the leased replica and wait for the first audio, within the
    provider's timeouts. A `background` request (a job's piece: nobody listens for its
    first byte) may wait for its first audio as long as its whole request may take, as it
    may sit in the provider's queue behind others' pieces."""
    routing = handle.entry.routing
    deadline = time.monotonic() + routing.request_timeout_s
    first_byte_s = routing.request_timeout_s if background else routing.first_byte_timeout_s
    timeout = httpx.Timeout(first_byte_s, connect=min(2.0, first_byte_s))
    http_request = client.build_request(
        "POST",
        f"{lease.url}/v1/synthesize",
        json=request.model_dump(exclude_none=True),
        headers={"X-Request-Id": request.request_id or ""},
        timeout=timeout,
    )
    try:
        async with asyncio.timeout(first_byte_s):
            response = await client.send(http_request, stream=True)
            try:
                if response.status_code != 200:
                    raise await _error_of(response, handle.name)
                timestamps: list[WordTimestamp] = []
                marks: list[MarkTimestamp] = []
                chunks = response.aiter_bytes()
                if response.headers.get("content-type", "").startswith(TIMED_AUDIO_CONTENT_TYPE):
                    chunks = _timed_audio(chunks, timestamps, marks)
                first = await anext(chunks, b"")
                if not first:
                    raise UpstreamError(f"provider {handle.name} returned no audio")
                rate = int(response.headers[SAMPLE_RATE_HEADER])
            except BaseException:
                await response.aclose()
                raise
    except ChorusError:
        raise
    except TimeoutError:
        raise UpstreamTimeout(
            f"provider {handle.name} sent no audio within {first_byte_s:g}s"
        ) from None
    except httpx.HTTPError as exc:
        raise transport_error(exc, f"provider {handle.name}") from None
    except (KeyError, ValueError) as exc:
        raise UpstreamError(f"provider {handle.name} answered badly: {exc!r}") from None
    return ProviderStream(
        handle,
        lease,
        request.voice,
        request.voice_reference,
        rate,
        first,
        deadline,
        response,
        chunks,
        timestamps,
        marks,
        engine_first_audio_ms=timing_ms(
            response.headers.get(SERVER_TIMING_HEADER), FIRST_AUDIO_METRIC
        ),
    )


async def _timed_audio(
    body: AsyncIterator[bytes], timestamps: list[WordTimestamp], marks: list[MarkTimestamp]
) -> AsyncIterator[bytes]:
    """The PCM of a timed-audio body; its word timings go into `timestamps` and its marks
    into `marks` as they come."""
    reader = FrameReader()
    try:
        async for data in body:
            for frame in reader.feed(data):
                if frame.kind == "words":
                    timestamps.extend(frame.words)
                elif frame.kind == "marks":
                    marks.extend(frame.marks)
                elif frame.audio:
                    yield frame.audio
        reader.finish()
    except FrameError as exc:
        raise httpx.DecodingError(f"bad timed-audio body: {exc}") from exc


async def _error_of(response: httpx.Response, provider: str) -> ChorusError:
    body = b""
    async for part in response.aiter_bytes():
        body += part
        if len(body) > _MAX_ERROR_BODY:
            break
    return error_from_response(
        response.status_code,
        body,
        retry_after_seconds(response.headers.get("Retry-After")),
        source=f"provider {provider}",
    )
