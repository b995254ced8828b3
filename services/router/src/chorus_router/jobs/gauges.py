"""Jobs by state, read from the job rows at scrape time (every replica sees every job, so
take `max` across replicas, not `sum`)."""

from __future__ import annotations

import time
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from chorus_router.jobs.records import JobStatus, JobStore


class JobGauges(Collector):
    """`tts_jobs{state}` (queued is the queue's depth) and how long the stalest active job
    of each state has gone without progress (what the stuck-job alert watches)."""

    def __init__(self, store: JobStore) -> None:
        self._store = store

    def collect(self) -> Iterator[Metric]:
        jobs = GaugeMetricFamily(
            "tts_jobs",
            "Long-form jobs queued or running (queued: the queue's depth)",
            labels=["state"],
        )
        stalled = GaugeMetricFamily(
            "tts_job_stalled_seconds",
            "Seconds since the least recently progressed job of each state last changed",
            labels=["state"],
        )
        active = self._store.active()
        now_us = time.time_ns() // 1000
        for state in (JobStatus.QUEUED, JobStatus.RUNNING):
            count, oldest_us = active.get(state, (0, now_us))
            jobs.add_metric([state.value], count)
            stalled.add_metric([state.value], max(0.0, (now_us - oldest_us) / 1e6))
        yield jobs
        yield stalled
