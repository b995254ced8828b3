"""Prometheus metrics of one provider service, in a registry of its own (no globals)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# TTS latencies span tens of milliseconds to tens of seconds.
LATENCY_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)

CHAR_BUCKETS = (10, 25, 50, 100, 200, 300, 500, 1000, 2000, 5000)


class ProviderMetrics:
    def __init__(self, provider: str) -> None:
        self.registry = CollectorRegistry()
        labels = {"provider": provider}
        self.requests = Counter(
            "chorus_provider_requests",
            "Synthesis requests by outcome",
            ["provider", "outcome"],
            registry=self.registry,
        )
        self.in_flight = Gauge(
            "chorus_provider_in_flight_requests",
            "Syntheses holding an engine slot",
            registry=self.registry,
        )
        self.queued = Gauge(
            "chorus_provider_queued_requests",
            "Requests waiting for an engine slot",
            registry=self.registry,
        )
        # The bounds, so alerts can say "near its bound" without knowing each provider's config.
        self.concurrency_limit = Gauge(
            "chorus_provider_concurrency_limit",
            "Syntheses that may hold an engine slot at once (max_concurrency)",
            registry=self.registry,
        )
        self.queue_limit = Gauge(
            "chorus_provider_queue_limit",
            "Requests that may wait for a slot before the provider answers 429 (max_queue)",
            registry=self.registry,
        )
        self.ready = Gauge(
            "chorus_provider_ready", "1 once the engine is loaded", registry=self.registry
        )
        self.load_seconds = Gauge(
            "chorus_provider_engine_load_seconds", "Engine load time", registry=self.registry
        )
        self.synthesis_seconds = Histogram(
            "chorus_provider_synthesis_seconds",
            "Wall time of a whole synthesis",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.first_chunk_seconds = Histogram(
            "chorus_provider_first_chunk_seconds",
            "Time from request to the first PCM chunk",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.queue_wait_seconds = Histogram(
            "chorus_provider_queue_wait_seconds",
            "Time a request waited for an engine slot",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.real_time_factor = Histogram(
            "chorus_provider_real_time_factor",
            "Synthesis wall time per second of audio (below 1 is faster than real time)",
            buckets=(0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0),
            registry=self.registry,
        )
        self.audio_seconds = Counter(
            "chorus_provider_audio_seconds",
            "Seconds of audio produced",
            registry=self.registry,
        )
        self.cancel_to_idle_seconds = Histogram(
            "chorus_provider_cancel_to_idle_seconds",
            "Time from a synthesis being cancelled (its client left) to its engine slot "
            "being free again: work done for nobody",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
            registry=self.registry,
        )
        self.voice_references = Counter(
            "chorus_provider_voice_reference_requests",
            "Synthesis requests that brought a voice reference (a cloned voice)",
            registry=self.registry,
        )
        self.text_chars = Histogram(
            "chorus_provider_text_chars",
            "Characters of text per synthesis request",
            buckets=CHAR_BUCKETS,
            registry=self.registry,
        )
        self.piece_chars = Histogram(
            "chorus_provider_piece_chars",
            "Characters of each piece of text the engine synthesized on its own",
            buckets=CHAR_BUCKETS,
            registry=self.registry,
        )
        self._labels = labels

    def outcome(self, outcome: str) -> None:
        self.requests.labels(provider=self._labels["provider"], outcome=outcome).inc()
