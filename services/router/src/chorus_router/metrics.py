"""The router's Prometheus metrics, in a registry of its own.

Every label takes values from a bounded set: registered model ids and provider names,
the six formats, HTTP statuses, error codes. User text never becomes a label.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from chorus_router.routing.pool import ProviderHandle

LATENCY_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
AUDIO_SECONDS_BUCKETS = (0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600)
SIZE_BUCKETS = (1e3, 1e4, 5e4, 1e5, 5e5, 1e6, 5e6, 1e7, 5e7)
COLD_START_BUCKETS = (0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600, 900)
JOB_SECONDS_BUCKETS = (10, 30, 60, 300, 900, 1800, 3600, 7200, 14_400, 43_200, 86_400)
TEXT_BUCKETS = (10, 50, 100, 250, 500, 1000, 2000, 4096, 10_000)


class _ProviderStates(Collector):
    """Breaker state and readiness, read from the live pool at scrape time."""

    def __init__(self, providers: Callable[[], Iterable[ProviderHandle]]) -> None:
        self._providers = providers

    def collect(self) -> Iterator[Metric]:
        breaker = GaugeMetricFamily(
            "tts_circuit_breaker_state",
            "Circuit breaker state per provider: 0 closed, 1 half-open, 2 open",
            labels=["provider"],
        )
        ready = GaugeMetricFamily(
            "tts_provider_ready",
            "1 when the provider's last readiness check passed",
            labels=["provider"],
        )
        info = GaugeMetricFamily(
            "tts_provider_info",
            "Always 1; labels a provider with its class (cloud, local, gpu) for SLO queries",
            labels=["provider", "kind"],
        )
        for handle in self._providers():
            breaker.add_metric([handle.name], int(handle.health.state))
            ready.add_metric([handle.name], 1 if handle.ready else 0)
            info.add_metric([handle.name, handle.entry.kind], 1)
        yield breaker
        yield ready
        yield info


class RouterMetrics:
    def __init__(self, providers: Callable[[], Iterable[ProviderHandle]]) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "tts_requests",
            "Speech requests by outcome",
            ["model", "provider", "format", "status"],
            registry=r,
        )
        self.request_duration = Histogram(
            "tts_request_duration_seconds",
            "Time from request to the last byte sent",
            ["provider"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.time_to_first_byte = Histogram(
            "tts_time_to_first_byte_seconds",
            "Time from request to the first audio byte",
            ["provider"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.audio_size = Histogram(
            "tts_audio_size_bytes",
            "Encoded audio sent per response",
            ["format"],
            buckets=SIZE_BUCKETS,
            registry=r,
        )
        self.audio_duration = Histogram(
            "tts_audio_duration_seconds",
            "Seconds of audio per response",
            ["provider"],
            buckets=AUDIO_SECONDS_BUCKETS,
            registry=r,
        )
        self.text_length = Histogram(
            "tts_text_length_characters",
            "Characters of input per request",
            buckets=TEXT_BUCKETS,
            registry=r,
        )
        self.active = Gauge("tts_active_requests", "Speech requests in progress", registry=r)
        self.fallbacks = Counter(
            "tts_fallback_attempts",
            "Moves from one provider to the next",
            ["from", "to", "reason"],
            registry=r,
        )
        self.retries = Counter(
            "tts_retries",
            "Retries on the same provider",
            ["provider", "reason"],
            registry=r,
        )
        self.provider_errors = Counter(
            "tts_provider_errors",
            "Failed provider attempts by error code",
            ["provider", "error_type"],
            registry=r,
        )
        self.cache_hits = Counter(
            "tts_cache_hits",
            "Speech requests answered from the response cache",
            ["format"],
            registry=r,
        )
        self.cache_misses = Counter(
            "tts_cache_misses",
            "Cacheable speech requests that had to be synthesized",
            ["format"],
            registry=r,
        )
        self.store_errors = Counter(
            "tts_artifact_store_errors",
            "Failed operations on the store of download links and cached audio",
            ["operation"],
            registry=r,
        )
        self.cache_bytes = Gauge(
            "tts_cache_bytes", "Bytes the response cache holds in the store", registry=r
        )
        self.live_sessions = Gauge(
            "tts_live_sessions", "Live speech sessions open on this replica", registry=r
        )
        self.live_turns = Counter(
            "tts_live_turns",
            "Live speech turns ended, by outcome (done, failed)",
            ["outcome"],
            registry=r,
        )
        self.live_barge_ins = Counter(
            "tts_live_barge_ins",
            "Live speech cleared by the client (input_text.clear) while text or audio was pending",
            registry=r,
        )
        self.job_pieces = Counter(
            "tts_job_pieces",
            "Pieces of long-form jobs synthesized and checkpointed, by provider (rate: pieces/s)",
            ["provider"],
            registry=r,
        )
        self.jobs_finished = Counter(
            "tts_jobs_finished",
            "Long-form jobs ended, by status (succeeded, failed, cancelled)",
            ["status"],
            registry=r,
        )
        self.live_first_audio = Histogram(
            "tts_live_first_audio_seconds",
            "Live speech: time to a turn's first audio after its first fragment (first_text), "
            "and after its flush (flush) where the flush came before any of its audio",
            ["after"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.live_fallbacks = Counter(
            "tts_live_fallbacks",
            "Live speech turns served by another provider than the session's turn before",
            registry=r,
        )
        self.job_chapter_fallbacks = Counter(
            "tts_job_chapter_fallbacks",
            "Chapters redone on the next provider because theirs stayed down, by the provider "
            "given up on",
            ["provider"],
            registry=r,
        )
        self.job_seconds = Histogram(
            "tts_job_seconds",
            "Wall time of a succeeded long-form job, from submission to its outputs",
            buckets=JOB_SECONDS_BUCKETS,
            registry=r,
        )
        self.job_audio_seconds = Histogram(
            "tts_job_audio_seconds",
            "Audio made by a succeeded long-form job (its speed: this sum over tts_job_seconds')",
            buckets=JOB_SECONDS_BUCKETS,
            registry=r,
        )
        self.cold_start_waiting = Gauge(
            "tts_cold_start_waiting_requests",
            "Requests held for a provider that scaled to zero, waiting for a replica to be "
            "ready (what an autoscaler such as KEDA wakes the provider on)",
            ["provider"],
            registry=r,
        )
        self.cold_start_wait = Histogram(
            "tts_cold_start_wait_seconds",
            "How long a request waited for a provider that scaled to zero, by outcome: ready "
            "(then served by it), timed_out, full (too many waiting already), left (the "
            "client went away)",
            ["provider", "outcome"],
            buckets=COLD_START_BUCKETS,
            registry=r,
        )
        r.register(_ProviderStates(providers))
