"""A long-form job against its provider's saturated throughput, side by side.

For Piper and then Kokoro, one Markdown book (ten chapters; 100k characters on Piper, 8k on
Kokoro, `JOBS_BENCH_CHARS_PIPER` / `_KOKORO` to change) is a job through a router with jobs
on (one Redis), working `CONCURRENCY` pieces at once; the same provider's saturated
throughput is `CONCURRENCY` clients posting the book's paragraphs as whole-file synthesis
requests straight to it, one after another. Both are
audio seconds per wall second; their ratio is what to read. The router's RSS is read before
and after the book: a book must stream through, not pile up.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import yaml

from bench.measure import stream_post
from bench.report import Table
from bench.texts import MEDIUM
from support.jobs_stack import finished
from support.processes import ServiceProcess
from support.redis_server import local_redis_server
from support.stack import SHIPPED_REGISTRY, Stack, start_provider, start_router

CONCURRENCY = 4
CHAPTERS = 10


@dataclass(frozen=True)
class _Engine:
    """A provider as the bench drives it: its name (and model), the voice it is asked for,
    and how big a book it gets (`JOBS_BENCH_CHARS_<NAME>`): Kokoro on CPU is ten times
    slower than Piper, so its book is smaller."""

    name: str
    voice: str
    default_chars: int

    @property
    def chars(self) -> int:
        return int(os.environ.get(f"JOBS_BENCH_CHARS_{self.name.upper()}", self.default_chars))


ENGINES = (_Engine("piper", "joe", 100_000), _Engine("kokoro", "jf_alpha", 8_000))
# Four clients on a provider that runs one or two at once queue; under load a queued request
# must wait, not be refused with a 429 (Kokoro's default queue timeout is 10 s).
_PROVIDER_ENV = {"CHORUS_KOKORO_QUEUE_TIMEOUT_S": "600", "CHORUS_PIPER_QUEUE_TIMEOUT_S": "600"}


def job_against_saturated(logs: Path) -> Table:
    table = Table(
        "jobs",
        f"A Markdown book as a job ({CONCURRENCY} pieces at once) against the same provider "
        f"saturated by {CONCURRENCY} clients of whole-file requests, side by side: audio "
        "seconds per wall second (higher is faster); the router's RSS around the book",
        "make bench BENCH=jobs",
        [
            "provider",
            "book chars",
            "job x realtime",
            "saturated x realtime",
            "job/saturated",
            "RSS before MiB",
            "after/before",
        ],
    )
    with local_redis_server(logs) as redis_url:
        for engine in ENGINES:
            table.add(engine.name, engine.chars, *_measure(logs, engine, redis_url))
    return table


def _measure(logs: Path, engine: _Engine, redis_url: str) -> tuple[float, float, str, str, str]:
    book = _book(engine.chars)
    provider = start_provider(engine.name, logs, env=_PROVIDER_ENV)
    try:
        router = _router(logs, provider, engine, redis_url)
        try:
            provider.wait_ready("/readyz", timeout_s=120)
            router.wait_ready("/readyz")
            saturated = _saturated(provider, engine, book)
            before = _rss_mib(router.pid)
            job_rate = _job(router, engine, book)
            after = _rss_mib(router.pid)
        finally:
            router.stop()
    finally:
        provider.stop()
    return (
        job_rate,
        saturated,
        f"{job_rate / saturated:.3f}",
        f"{before:.0f}",
        f"{after / before:.2f}",
    )


def _book(chars: int) -> str:
    """Chapters of whole paragraphs, `chars` characters in all (at least one paragraph)."""
    per_chapter = max(1, chars // CHAPTERS // len(MEDIUM))
    paragraphs = max(1, chars // len(MEDIUM))
    chapters = [
        f"# Chapter {n + 1}\n\n" + "\n\n".join([MEDIUM] * per_chapter)
        for n in range(max(1, paragraphs // per_chapter))
    ]
    return "\n\n".join(chapters)


def _router(
    logs: Path, provider: ServiceProcess, engine: _Engine, redis_url: str
) -> ServiceProcess:
    shipped = next(
        e
        for e in yaml.safe_load(SHIPPED_REGISTRY.read_text())["providers"]
        if e["name"] == engine.name
    )
    registry = logs / f"jobs-{engine.name}-providers.yaml"
    Stack.write_registry_file(registry, [{**shipped, "url": provider.url}])
    return start_router(
        registry,
        logs,
        {
            "CHORUS_ROUTER_JOBS__QUEUE_URL": redis_url,
            "CHORUS_ROUTER_JOBS__PIECES_IN_FLIGHT": str(CONCURRENCY),
            "CHORUS_ROUTER_ARTIFACTS__CACHE__ENABLED": "false",
            "CHORUS_ROUTER_PROVIDER_POLL_INTERVAL_S": "2",
        },
    )


def _saturated(provider: ServiceProcess, engine: _Engine, book: str) -> float:
    """Audio seconds per wall second of `CONCURRENCY` clients speaking the book's paragraphs
    (as many as the job has) straight to the provider."""
    paragraphs = [p for p in book.split("\n\n") if not p.startswith("#")]
    work = iter(paragraphs)
    url = f"{provider.url}/v1/synthesize"

    def client() -> float:
        audio = 0.0
        for text in iter(lambda: next(work, None), None):
            body: dict[str, object] = {"text": text, "voice": engine.voice}
            audio += stream_post(url, body, 44_100).audio_seconds
        return audio

    started = time.perf_counter()
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        audio = sum(pool.map(lambda _: client(), range(CONCURRENCY)))
    return audio / (time.perf_counter() - started)


def _job(router: ServiceProcess, engine: _Engine, book: str) -> float:
    """Audio seconds per wall second of the book as one job, submission to outputs, watched
    as a user watches it: its event stream. (Asking for the job every 0.2 s cost the router
    about 4 ms of CPU a time, a share of the two cores the job runs on.)"""
    # Audio alone, as the saturated clients ask for (captions would have words timed).
    body = {
        "input": book,
        "model": engine.name,
        "voice": engine.voice,
        "response_format": "mp3",
        "captions": False,
    }
    with httpx.Client(base_url=router.url, timeout=60) as client:
        started = time.perf_counter()
        response = client.post("/api/v1/audio/jobs", json=body)
        response.raise_for_status()
        job = finished(client, response.json()["id"])
        wall = time.perf_counter() - started
    if job["status"] != "succeeded":
        raise RuntimeError(f"the bench job ended {job['status']}: {job['error']}")
    return float(job["progress"]["audio_seconds"]) / wall


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")
