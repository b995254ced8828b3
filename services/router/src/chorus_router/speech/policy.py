"""One request's failure policy: every decision about a provider that fails, in one place.

The rules, as ARCHITECTURE.md's routing paragraph states them, each decided from the error
types' own flags (chorus_contracts.errors) and nothing else:
- candidates are tried in the plan's order: the primary, its fallbacks, the model's others;
- each call passes the provider's circuit breaker; an open breaker or a Retry-After
  cool-down passes the provider over without a call;
- an error that is `retry_same_provider` is tried again on the same provider, with
  exponential backoff and jitter (tenacity), as that provider's retry settings allow;
- a provider with several replicas is one candidate: each attempt goes to the replica with
  the least load (routing/replicas.py), a retry to one this request has not tried, and a
  busy replica's refusal (backpressure) is retried on another one where there is one;
  a replica's failure is its own breaker's, so the provider serves while any replica does;
- any other provider error moves on to the next candidate, and so does a refusal
  (`other_provider_may_serve`); any other client error ends the request at once;
- when every candidate was busy (it answered `ProviderBusy`, or is cooling down after a
  Retry-After), the answer is `ProviderBusy` with the soonest Retry-After: the providers
  are up, and a job's piece waits for them rather than counting them down;
- one budget (attempts, deadline) spans the whole request, every pass included;
- a provider that scaled to zero is waited for while it wakes (speech/waking.py), within
  bounds of its own; the deadline starts again once it is ready; past the bounds it is
  passed over like an open breaker, and a 503 says when to come back;
- after the first byte, a failure ends the stream, or, when asked, ends it with a short
  notice spoken by the same provider in the same voice (once), through its breaker like any
  call (a breaker the break opened gives no notice); never two voices spliced;
- a whole file whose provider breaks off mid-way is made again, from the start, on
  another replica of that provider where there is one (the same voice), else on the next
  candidate;
- the breaker hears of every failure that `counts_against_breaker`, before or after the
  first byte, and only from here; a call's success is its stream's end, so a provider
  that breaks off every stream opens its breaker although each one started.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
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
    ProviderBusy,
    ProviderCannotServe,
    ServiceUnavailable,
    SpeechRequest,
    SynthesisRequest,
)
from chorus_router.lexicons.records import AppliedLexicons
from chorus_router.metrics import RouterMetrics
from chorus_router.routing.breakers import Permit
from chorus_router.routing.pool import ProviderHandle, ProviderPool
from chorus_router.routing.provider_health import Clock
from chorus_router.routing.replicas import ReplicaLease
from chorus_router.speech.planning import Candidate, SpeechPlan, plan
from chorus_router.speech.upstream import ProviderStream, open_stream
from chorus_router.speech.waking import (
    DEFAULT_COLD_START,
    RETRY_AFTER_WAKING_S,
    ColdStartBounds,
    ColdStarts,
    StillWaking,
)

log = logging.getLogger("chorus.router.policy")
tracer = trace.get_tracer("chorus.router")


@dataclass(frozen=True)
class Limits:
    """Bounds on one request's whole search: attempts across the chain and total time."""

    max_attempts: int
    deadline_s: float


class _Skipped(Exception):
    """A candidate passed over without a network call (breaker open, cooling down); `busy`
    when it asked to wait (a Retry-After cool-down), which is backpressure, not a fault."""

    def __init__(self, reason: str, *, busy: bool = False) -> None:
        super().__init__(reason)
        self.busy = busy


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

    def pause(self, seconds: float) -> None:
        """The request waited `seconds` on something with its own bound (a cold start)."""
        self.deadline += seconds


def _retry_same_provider(
    handle: ProviderHandle, tried: set[str]
) -> Callable[[BaseException], bool]:
    def retry(exc: BaseException) -> bool:
        if not isinstance(exc, ChorusError):
            return False
        untried = any(r.url not in tried for r in handle.replicas.all())
        return exc.retry_same_provider or (exc.backpressure and untried)

    return retry


def _blame(
    handle: ProviderHandle, error: ChorusError, permit: Permit | None, lease: ReplicaLease
) -> None:
    """A provider failure: its replica's breaker hears it, and the provider's unless
    other replicas may serve."""
    lease.failed(error)
    handle.health.failed(error, permit, one_of_several=handle.replicas.several)


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
    """The app's routing parts: plans requests and gives each its own failure policy."""

    def __init__(
        self,
        pool: ProviderPool,
        client: httpx.AsyncClient,
        limits: Limits,
        metrics: RouterMetrics,
        clock: Clock = time.time,
        cold_start: ColdStartBounds = DEFAULT_COLD_START,
    ) -> None:
        self._pool = pool
        self._client = client
        self._limits = limits
        self._metrics = metrics
        self._clock = clock
        self._cold_starts = ColdStarts(cold_start, metrics)

    def plan(self, request: SpeechRequest, lexicons: AppliedLexicons | None = None) -> SpeechPlan:
        """The providers that may serve `request` (with `lexicons` applied), in order; a 4xx
        when none can."""
        return plan(self._pool, request, lexicons)

    def policy(
        self,
        speech_plan: SpeechPlan,
        request_id: str,
        notice: str | None = None,
        *,
        background: bool = False,
    ) -> FailurePolicy:
        """The failure policy of one request; `notice` is the text spoken when a stream
        breaks off (None: the stream just ends). A `background` request (a job's piece)
        waits for its first audio within the request timeout rather than the first-byte
        timeout: queued at the provider behind the job's other pieces, it is not late."""
        return FailurePolicy(
            speech_plan,
            request_id,
            client=self._client,
            budget=Budget(self._limits, self._clock),
            metrics=self._metrics,
            clock=self._clock,
            notice=notice,
            cold_starts=self._cold_starts,
            background=background,
        )


class FailurePolicy:
    """Everything one request does when a provider fails, from the first attempt to the
    last byte (see the module's rules)."""

    def __init__(
        self,
        speech_plan: SpeechPlan,
        request_id: str,
        *,
        client: httpx.AsyncClient,
        budget: Budget,
        metrics: RouterMetrics,
        clock: Clock,
        notice: str | None,
        cold_starts: ColdStarts,
        background: bool = False,
    ) -> None:
        self._plan = speech_plan
        self._background = background
        self._request_id = request_id
        self._client = client
        self._budget = budget
        self._metrics = metrics
        self._clock = clock
        self._notice = notice
        # Replicas (URLs) whose stream broke off, and providers with none left: a whole file
        # is made again without them.
        self._broken_replicas: set[str] = set()
        self._broken: set[str] = set()
        self._making_whole = False
        # Replicas (URLs) this request has tried: a retry goes to another one first.
        self._tried: set[str] = set()
        self._cold_starts = cold_starts
        # A provider did not wake in time: a 503 asks the client to come back later.
        self._still_waking = False

    async def open(self) -> ProviderStream:
        """The first candidate's stream that yields audio, or the error that ends the search."""
        candidates = [c for c in self._plan.candidates if c.provider not in self._broken]
        failures: list[str] = []
        refusals: list[tuple[str, ChorusError]] = []
        previous: tuple[str, str] | None = None
        all_busy = True
        for candidate in candidates:
            if self._budget.spent():
                failures.append("request deadline or attempt limit reached")
                all_busy = False
                break
            name = candidate.provider
            if previous is not None:
                self._metrics.fallbacks.labels(previous[0], name, previous[1]).inc()
            try:
                return await self._attempts(candidate)
            except _Skipped as skip:
                failures.append(f"{name}: {skip}")
                all_busy = all_busy and skip.busy
                previous = (name, "skipped")
            except ChorusError as exc:
                if isinstance(exc, ClientError) and not exc.other_provider_may_serve:
                    raise
                if exc.other_provider_may_serve:
                    log.info("provider %s cannot serve: %s (%s)", name, exc.code, exc.message)
                    refusals.append((name, exc))
                else:
                    log.warning("provider %s failed: %s (%s)", name, exc.code, exc.message)
                    failures.append(f"{name}: {exc.message}")
                all_busy = all_busy and isinstance(exc, ProviderBusy)
                previous = (name, exc.code)
        if refusals and not failures:
            raise _refused(self._plan.request.model, refusals)
        said = "; ".join([f"{name}: {exc.message}" for name, exc in refusals] + failures)
        model = self._plan.request.model
        retry_after = self._soonest_recovery(candidates)
        if failures and all_busy:
            raise ProviderBusy(
                f"all providers for model {model} are busy ({said})", retry_after=retry_after
            )
        raise ServiceUnavailable(
            f"all providers for model {model} are unavailable "
            f"({said or 'none could take the request'})",
            retry_after=max(retry_after, RETRY_AFTER_WAKING_S if self._still_waking else 0.0),
        )

    async def whole(
        self, make: Callable[[ProviderStream], Awaitable[bytes]]
    ) -> tuple[bytes, ProviderStream]:
        """A whole file, `make` reading one stream to its end. Nothing has reached the client
        yet, so a replica that breaks off mid-way is replaced by another one of its provider,
        else by the next candidate, and the file is made again from the start, within the
        request's one budget."""
        self._making_whole = True
        while True:
            stream = await self.open()
            try:
                return await make(stream), stream
            except ChorusError:
                if stream.lease.url not in self._broken_replicas:
                    raise

    async def broke_off(self, stream: ProviderStream, error: ChorusError) -> ProviderStream | None:
        """A stream failed after its first byte: the provider's breaker hears of it. Returns
        the spoken notice to end the response with, or None when the response just ends
        (a whole file is made again elsewhere instead; a notice is given once)."""
        log.warning("provider %s failed mid-stream: %s", stream.provider, error.message)
        self._broken_replicas.add(stream.lease.url)
        if all(r.url in self._broken_replicas for r in stream.handle.replicas.all()):
            self._broken.add(stream.provider)
        permit, stream.permit = stream.permit, None
        _blame(stream.handle, error, permit, stream.lease)
        if self._notice is None or self._making_whole:
            return None
        text, self._notice = self._notice, None
        synthesis = SynthesisRequest(
            text=text,
            voice=stream.voice,
            voice_reference=stream.voice_reference,
            request_id=self._request_id,
        )
        # An attempt like any other: through the breaker (which this break may just have
        # opened), and its stream's end gives the provider its verdict.
        try:
            async with asyncio.timeout(stream.handle.entry.routing.first_byte_timeout_s):
                return await self._call(Candidate(stream.handle, stream.voice), synthesis)
        except (ChorusError, _Skipped, TimeoutError):
            return None

    def ended(self, stream: ProviderStream) -> None:
        """The stream ran to its end: the call succeeded (its breaker hears it now)."""
        permit, stream.permit = stream.permit, None
        stream.lease.succeeded()
        if permit is not None:
            stream.handle.health.succeeded(permit)

    def left(self, stream: ProviderStream) -> None:
        """Nobody reads the stream any more: no verdict on its provider."""
        permit, stream.permit = stream.permit, None
        stream.lease.released()
        if permit is not None:
            stream.handle.health.released(permit)

    async def _attempts(self, candidate: Candidate) -> ProviderStream:
        """One candidate: its breaker and cool-down, then its same-provider retries."""
        handle = candidate.handle
        if handle.entry.scale_to_zero and not handle.ready:
            await self._wake(handle)
        if handle.health.cooling_down():
            with tracer.start_as_current_span(
                "tts.attempt",
                attributes={"tts.provider": handle.name, "tts.outcome": "skipped_retry_after"},
                record_exception=False,
                set_status_on_exception=False,
            ):
                raise _Skipped("asked to wait (Retry-After)", busy=True)
        synthesis = self._plan.synthesis(candidate, self._request_id)
        retry = handle.entry.routing.retry
        retrying = AsyncRetrying(
            stop=stop_after_attempt(retry.attempts) | stop_after_delay(self._budget.remaining_s()),
            wait=wait_exponential_jitter(
                multiplier=retry.backoff_initial_s, max=retry.backoff_max_s, jitter=retry.jitter_s
            ),
            retry=retry_if_exception(_retry_same_provider(handle, self._tried)),
            before_sleep=self._count_retry(handle.name),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                if self._budget.spent():
                    raise _Skipped("request deadline or attempt limit reached")
                return await self._call(candidate, synthesis)
        raise AssertionError("tenacity ended without a result")  # pragma: no cover

    async def _call(self, candidate: Candidate, synthesis: SynthesisRequest) -> ProviderStream:
        """One network call, through the breaker, up to the first audio."""
        handle, budget = candidate.handle, self._budget
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
            lease = handle.replicas.lease(avoid=self._tried)
            if lease is None:
                health.released(permit)
                span.set_attribute("tts.outcome", "skipped_circuit_open")
                raise _Skipped("every replica's circuit open")
            span.set_attribute("tts.replica", lease.url)
            self._tried.add(lease.url)
            budget.attempts_left -= 1
            try:
                stream = await open_stream(
                    self._client, handle, lease, synthesis, background=self._background
                )
            except ClientError as exc:
                # The request, not the provider: no verdict on its health.
                span.set_attribute("tts.outcome", exc.code)
                health.released(permit)
                lease.released()
                raise
            except ChorusError as exc:
                span.set_attribute("tts.outcome", exc.code)
                span.set_status(StatusCode.ERROR, exc.message)
                self._metrics.provider_errors.labels(handle.name, exc.code).inc()
                _blame(handle, exc, permit, lease)
                raise
            except BaseException:
                span.set_attribute("tts.outcome", "cancelled")
                health.released(permit)
                lease.released()
                raise
            span.set_attribute("tts.outcome", "ok")
            # The verdict waits for the stream's end (`ended`, `broke_off`, `left`).
            stream.permit = permit
            return stream

    async def _wake(self, handle: ProviderHandle) -> None:
        """Hold the request while a provider that scaled to zero wakes."""
        with tracer.start_as_current_span(
            "tts.cold_start",
            attributes={"tts.provider": handle.name},
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            try:
                waited = await self._cold_starts.wait(handle)
            except StillWaking as asleep:
                span.set_attribute("tts.outcome", "still_waking")
                self._still_waking = True
                raise _Skipped(f"still waking ({asleep})") from None
            span.set_attribute("tts.outcome", "ready")
            self._budget.pause(waited)

    def _count_retry(self, provider: str) -> Callable[[RetryCallState], None]:
        budget = self._budget

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
