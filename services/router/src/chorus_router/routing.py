"""From a speech request to an open provider stream.

Candidates (planning.py) are tried in order. Each network attempt passes that provider's
circuit breaker; retryable failures are retried on the same provider with tenacity
(exponential backoff, jitter), others move on. All of it happens before the first audio
byte reaches the client.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx
from opentelemetry import trace
from opentelemetry.trace import StatusCode
from opentelemetry.util.types import AttributeValue
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential_jitter,
)

from chorus_contracts import (
    ChorusError,
    ClientError,
    ProviderCannotServe,
    ProviderUnreachable,
    ServiceUnavailable,
    SpeechRequest,
    SynthesisRequest,
    UnknownModel,
    UnknownVoice,
    UpstreamError,
    UpstreamTimeout,
    VoiceCloningUnsupported,
)
from chorus_router.metrics import RouterMetrics
from chorus_router.planning import Candidate, plan
from chorus_router.pool import ProviderHandle, ProviderPool
from chorus_router.provider_health import Clock
from chorus_router.spoken_text import checked_length, spoken_text
from chorus_router.upstream import ProviderStream, open_stream

log = logging.getLogger("chorus.router.routing")
tracer = trace.get_tracer("chorus.router")


@dataclass(frozen=True)
class Limits:
    """Bounds on one request's whole search: attempts across the chain and total time."""

    max_attempts: int
    deadline_s: float


class _Skipped(Exception):
    """A candidate passed over without a network call (breaker open, cooling down)."""


class Budget:
    """What one request has left of its `Limits`, shared by every pass that serves it."""

    def __init__(self, limits: Limits, clock: Clock) -> None:
        self._clock = clock
        self.attempts_left = limits.max_attempts
        self.deadline = clock() + limits.deadline_s
        self.attempt_number = 0
        self.retry_delay_s = 0.0

    def remaining_s(self) -> float:
        return max(0.0, self.deadline - self._clock())

    def spent(self) -> bool:
        return self.attempts_left <= 0 or self.remaining_s() <= 0


def _retry_same_provider(exc: BaseException) -> bool:
    """Transient failures worth another try on the same provider (not 429/503/bad config)."""
    return isinstance(exc, UpstreamError | UpstreamTimeout | ProviderUnreachable)


# What one provider may refuse while another serves the same request: the search goes on.
_REFUSALS = (ProviderCannotServe, UnknownVoice, UnknownModel, VoiceCloningUnsupported)


def _refused(model: str, refusals: list[tuple[str, ChorusError]]) -> ChorusError:
    """Every candidate refused: the client hears what each one said."""
    kinds = {type(exc) for _, exc in refusals}
    cls = kinds.pop() if len(kinds) == 1 else ProviderCannotServe
    said = "; ".join(f"{name}: {exc.message}" for name, exc in refusals)
    return cls(
        f"no provider of model '{model}' can serve this request ({said})",
        param=refusals[0][1].param,
    )


class SpeechRouter:
    """Chooses providers for a request and opens the first stream that produces audio."""

    def __init__(
        self,
        pool: ProviderPool,
        client: httpx.AsyncClient,
        limits: Limits,
        metrics: RouterMetrics,
        clock: Clock = time.time,
    ) -> None:
        self._pool = pool
        self._client = client
        self._limits = limits
        self._metrics = metrics
        self._clock = clock

    def budget(self) -> Budget:
        """A fresh budget: pass it to each `open` that serves the same request."""
        return Budget(self._limits, self._clock)

    async def open(
        self,
        request: SpeechRequest,
        request_id: str,
        exclude: frozenset[str] = frozenset(),
        budget: Budget | None = None,
    ) -> ProviderStream:
        """The first candidate's stream that yields audio, or the error that ends the search.

        A request served in several passes (a whole file made again elsewhere) passes the
        same `budget` to each, so its deadline and attempt limit hold across all of them.
        """
        candidates = [c for c in plan(self._pool, request) if c.handle.name not in exclude]
        budget = budget or self.budget()
        failures: list[str] = []
        refusals: list[tuple[str, ChorusError]] = []
        previous: tuple[str, str] | None = None
        for candidate in candidates:
            if budget.spent():
                failures.append("request deadline or attempt limit reached")
                break
            name = candidate.handle.name
            try:
                if previous is not None:
                    self._metrics.fallbacks.labels(previous[0], name, previous[1]).inc()
                return await self._attempts(candidate, request, request_id, budget)
            except _Skipped as skip:
                failures.append(f"{name}: {skip}")
                previous = (name, "skipped")
            except _REFUSALS as exc:
                log.info("provider %s cannot serve: %s (%s)", name, exc.code, exc.message)
                refusals.append((name, exc))
                previous = (name, exc.code)
            except ClientError:
                raise
            except ChorusError as exc:
                log.warning("provider %s failed: %s (%s)", name, exc.code, exc.message)
                failures.append(f"{name}: {exc.message}")
                previous = (name, exc.code)
        if refusals and not failures:
            raise _refused(request.model, refusals)
        said = [f"{name}: {exc.message}" for name, exc in refusals] + failures
        raise ServiceUnavailable(
            f"all providers for model {request.model} are unavailable "
            f"({'; '.join(said) or 'none could take the request'})",
            retry_after=self._soonest_recovery(candidates),
        )

    async def _attempts(
        self, candidate: Candidate, request: SpeechRequest, request_id: str, budget: Budget
    ) -> ProviderStream:
        handle = candidate.handle
        if handle.health.cooling_down():
            with tracer.start_as_current_span(
                "tts.attempt",
                attributes={"tts.provider": handle.name, "tts.outcome": "skipped_retry_after"},
                record_exception=False,
                set_status_on_exception=False,
            ):
                raise _Skipped("asked to wait (Retry-After)")
        text = spoken_text(request, handle.capabilities, candidate.voice)
        synthesis = SynthesisRequest(
            text=checked_length(request, text, handle.capabilities),
            voice=candidate.voice,
            model=request.model,
            speed=request.speed,
            language=request.lang_code,
            instructions=request.instructions,
            extra=request.extra_params,
            voice_reference=request.voice_reference,
            voice_reference_text=request.voice_reference_text,
            request_id=request_id,
            timestamps=request.timestamps == "word",
        )
        retry = handle.entry.routing.retry
        retrying = AsyncRetrying(
            stop=stop_after_attempt(retry.attempts) | stop_after_delay(budget.remaining_s()),
            wait=wait_exponential_jitter(
                multiplier=retry.backoff_initial_s, max=retry.backoff_max_s, jitter=retry.jitter_s
            ),
            retry=retry_if_exception(_retry_same_provider),
            before_sleep=self._count_retry(handle.name, budget),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                if budget.spent():
                    raise _Skipped("request deadline or attempt limit reached")
                return await self._attempt(handle, synthesis, budget)
        raise AssertionError("tenacity ended without a result")  # pragma: no cover

    async def _attempt(
        self, handle: ProviderHandle, synthesis: SynthesisRequest, budget: Budget
    ) -> ProviderStream:
        budget.attempt_number += 1
        attributes: dict[str, AttributeValue] = {
            "tts.provider": handle.name,
            "tts.attempt": budget.attempt_number,
            "tts.breaker_state": handle.health.state.name.lower(),
            "tts.retry_delay_s": budget.retry_delay_s,
        }
        budget.retry_delay_s = 0.0
        with tracer.start_as_current_span(
            "tts.attempt",
            attributes=attributes,
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            health = handle.health
            permit = health.permit()
            if permit is None:
                span.set_attribute("tts.outcome", "skipped_circuit_open")
                raise _Skipped("circuit open")
            budget.attempts_left -= 1
            try:
                stream = await open_stream(self._client, handle, synthesis)
            except ClientError as exc:
                span.set_attribute("tts.outcome", exc.code)
                health.released(permit)
                raise
            except ChorusError as exc:
                span.set_attribute("tts.outcome", exc.code)
                span.set_status(StatusCode.ERROR, exc.message)
                self._metrics.provider_errors.labels(handle.name, exc.code).inc()
                health.failed(exc, permit)
                raise
            except BaseException:
                span.set_attribute("tts.outcome", "cancelled")
                health.released(permit)
                raise
            span.set_attribute("tts.outcome", "ok")
            health.succeeded(permit)
            return stream

    def _count_retry(self, provider: str, budget: Budget) -> Callable[[RetryCallState], None]:
        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            reason = exc.code if isinstance(exc, ChorusError) else "error"
            self._metrics.retries.labels(provider, reason).inc()
            budget.retry_delay_s = state.next_action.sleep if state.next_action else 0.0

        return before_sleep

    def _soonest_recovery(self, candidates: list[Candidate]) -> float:
        """Seconds until the first refused candidate may be tried again (at least 1)."""
        now = self._clock()
        waits = [t - now for c in candidates if (t := c.handle.health.recovers_at()) is not None]
        return max(1.0, min(waits)) if waits else 1.0


async def speak_error(
    client: httpx.AsyncClient, stream: ProviderStream, text: str, request_id: str
) -> ProviderStream | None:
    """A short spoken notice in the broken stream's own voice, if its provider still can."""
    synthesis = SynthesisRequest(
        text=text,
        voice=stream.voice,
        voice_reference=stream.voice_reference,
        request_id=request_id,
    )
    try:
        async with asyncio.timeout(stream.handle.entry.routing.first_byte_timeout_s):
            return await open_stream(client, stream.handle, synthesis)
    except (ChorusError, TimeoutError):
        return None
