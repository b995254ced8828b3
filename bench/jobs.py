"""A long-form job against its provider's saturated throughput, side by side.

For Piper and then Kokoro, one Markdown book (ten chapters; 100k characters on Piper, 8k on
Kokoro, `JOBS_BENCH_CHARS_PIPER` / `_KOKORO` to change) is a job through a router with jobs
on (one Redis), working `CONCURRENCY` pieces at once; the same provider's saturated
throughput is `CONCURRENCY` clients posting the book's paragraphs as whole-file synthesis
requests straight to it, one after another. Both are
audio seconds per wall second; their ratio is what to read. The router's RSS is read before
and after the book: a book must stream through, not pile up.

Then a smaller Piper book is made twice more (`BENCH=jobs-resume` runs this part alone):
once uninterrupted, and once with its router SIGKILLed halfway and started again on the
same database and queue. What to read: the resumed job's audio lasts what the
uninterrupted one's does, and no more pieces were made twice than were in flight at the
kill.
"""

from __future__ import annotations

import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from bench.measure import stream_post
from bench.report import Table
from bench.texts import MEDIUM
from support.jobs_stack import finished
from support.processes import ServiceProcess
from support.redis_server import local_redis_server
from support.stack import SHIPPED_REGISTRY, Stack, start_provider, start_router
from support.tone_stack import requests_seen

CONCURRENCY = 4
CHAPTERS = 10
# Big enough that halfway is many pieces in, small enough to make twice in a few minutes.
RESUME_CHARS = 20_000


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
        _command(),
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


def _command() -> str:
    """The command as run: the book sizes set in the environment are part of it."""
    sizes = [f"{k}={v}" for k, v in sorted(os.environ.items()) if k.startswith("JOBS_BENCH_CHARS_")]
    return " ".join([*sizes, "make bench BENCH=jobs"])


def resumed_after_kill(logs: Path) -> Table:
    """Piper's book made uninterrupted, then again with the router SIGKILLed halfway."""
    table = Table(
        "jobs-resume",
        f"A Markdown book as a job on Piper, its router SIGKILLed when half the pieces were "
        f"done and started again, against the same job uninterrupted ({CONCURRENCY} pieces "
        "in flight)",
        "make bench BENCH=jobs-resume",
        [
            "book chars",
            "pieces",
            "made twice",
            "in flight at the kill",
            "audio s uninterrupted",
            "audio s resumed",
            "resumed/uninterrupted",
            "chapters off by > 1 %",
            "wall s uninterrupted",
            "wall s resumed",
        ],
    )
    engine = ENGINES[0]
    book = _book(RESUME_CHARS)
    # The restarted router is the same deployment: the same database, artifacts and queue.
    state = {"CHORUS_ROUTER_DATA_DIR": str(logs / "jobs-resume-router-data")}
    with local_redis_server(logs) as redis_url:
        provider = start_provider(engine.name, logs, env=_PROVIDER_ENV)
        router = _router(logs, provider, engine, redis_url, state)
        try:
            provider.wait_ready("/readyz", timeout_s=120)
            router.wait_ready("/readyz")
            started = time.perf_counter()
            whole = _finished(router, _submit(router, engine, book))
            whole_wall = time.perf_counter() - started
            before = requests_seen(provider)
            started = time.perf_counter()
            job_id = _submit(router, engine, book)
            _wait_for_half(router, job_id)
            router.signal(signal.SIGKILL)
            router.wait_exit(timeout_s=10)
            router = _router(logs, provider, engine, redis_url, state)
            router.wait_ready("/readyz")
            resumed = _finished(router, job_id)
            resumed_wall = time.perf_counter() - started
            made = requests_seen(provider) - before
        finally:
            router.stop()
            provider.stop()
    total = int(whole["progress"]["pieces_total"])
    audio = float(whole["progress"]["audio_seconds"]), float(resumed["progress"]["audio_seconds"])
    off = [
        (a, b)
        for a, b in zip(_durations(whole), _durations(resumed), strict=True)
        if abs(b - a) > 0.01 * a
    ]
    table.add(
        len(book),
        total,
        made - total,
        CONCURRENCY,
        *audio,
        f"{audio[1] / audio[0]:.4f}",
        len(off),
        whole_wall,
        resumed_wall,
    )
    return table


def _durations(job: dict[str, Any]) -> list[float]:
    return [float(o["duration_s"]) for o in job["outputs"] if o["kind"] in ("chapter", "book")]


def _wait_for_half(router: ServiceProcess, job_id: str) -> None:
    with httpx.Client(base_url=router.url, timeout=60) as client:
        while True:
            progress = client.get(f"/api/v1/audio/jobs/{job_id}").json()["progress"]
            if progress["pieces_done"] >= progress["pieces_total"] // 2 > 0:
                return
            time.sleep(0.5)


def _router(
    logs: Path,
    provider: ServiceProcess,
    engine: _Engine,
    redis_url: str,
    env: dict[str, str] | None = None,
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
            **(env or {}),
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
    """Audio seconds per wall second of the book as one job, submission to outputs."""
    started = time.perf_counter()
    job = _finished(router, _submit(router, engine, book))
    return float(job["progress"]["audio_seconds"]) / (time.perf_counter() - started)


def _submit(router: ServiceProcess, engine: _Engine, book: str) -> str:
    # Audio alone, as the saturated clients ask for (captions would have words timed).
    body = {
        "input": book,
        "model": engine.name,
        "voice": engine.voice,
        "response_format": "mp3",
        "captions": False,
    }
    response = httpx.post(f"{router.url}/api/v1/audio/jobs", json=body, timeout=60)
    response.raise_for_status()
    return str(response.json()["id"])


def _finished(router: ServiceProcess, job_id: str) -> dict[str, Any]:
    """The job once it has ended, watched as a user watches it: its event stream. (Asking
    for the job every 0.2 s cost the router about 4 ms of CPU a time, a share of the two
    cores the job runs on.)"""
    with httpx.Client(base_url=router.url, timeout=60) as client:
        job = finished(client, job_id)
    if job["status"] != "succeeded":
        raise RuntimeError(f"the bench job ended {job['status']}: {job['error']}")
    return job


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")
