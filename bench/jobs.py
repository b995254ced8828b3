"""A long-form job against its provider's saturated throughput, side by side.

One Markdown book (`JOBS_BENCH_CHARS` characters, 100k by default, ten chapters) is a job
on Piper through a router with jobs on (its own Redis), working `CONCURRENCY` pieces at
once; the same provider's saturated throughput is `CONCURRENCY` clients posting the book's
paragraphs as whole-file synthesis requests straight to it, one after another. Both are
audio seconds per wall second; their ratio is what to read. The router's RSS is read before
and after the book: a book must stream through, not pile up.
"""

from __future__ import annotations

import itertools
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import yaml

from bench.measure import stream_post
from bench.report import Table
from bench.texts import MEDIUM
from support.processes import ServiceProcess
from support.redis_server import local_redis_server
from support.stack import SHIPPED_REGISTRY, Stack, start_provider, start_router

CONCURRENCY = 4
CHAPTERS = 10
_DEFAULT_CHARS = 100_000


def job_against_saturated(logs: Path) -> Table:
    chars = int(os.environ.get("JOBS_BENCH_CHARS", _DEFAULT_CHARS))
    book = _book(chars)
    piper = start_provider("piper", logs)
    try:
        with local_redis_server(logs) as redis_url:
            router = _router(logs, piper, redis_url)
            try:
                piper.wait_ready()
                router.wait_ready("/readyz")
                saturated = _saturated(piper, book)
                before = _rss_mib(router.pid)
                job_rate = _job(router, book)
                after = _rss_mib(router.pid)
            finally:
                router.stop()
    finally:
        piper.stop()
    table = Table(
        "jobs",
        f"A {chars // 1000}k-character Markdown book as a job on Piper ({CONCURRENCY} pieces at "
        f"once) against Piper saturated by {CONCURRENCY} clients of whole-file requests: "
        "audio seconds per wall second (higher is faster); the router's RSS around the book",
        "make bench BENCH=jobs",
        [
            "job x realtime",
            "saturated x realtime",
            "job/saturated",
            "RSS before MiB",
            "after/before",
        ],
    )
    table.add(
        job_rate, saturated, f"{job_rate / saturated:.2f}", f"{before:.0f}", f"{after / before:.2f}"
    )
    return table


def _book(chars: int) -> str:
    """Chapters of whole paragraphs, `chars` characters in all (at least one paragraph)."""
    per_chapter = max(1, chars // CHAPTERS // len(MEDIUM))
    paragraphs = max(1, chars // len(MEDIUM))
    chapters = [
        f"# Chapter {n + 1}\n\n" + "\n\n".join([MEDIUM] * per_chapter)
        for n in range(max(1, paragraphs // per_chapter))
    ]
    return "\n\n".join(chapters)


def _router(logs: Path, piper: ServiceProcess, redis_url: str) -> ServiceProcess:
    shipped = next(
        e for e in yaml.safe_load(SHIPPED_REGISTRY.read_text())["providers"] if e["name"] == "piper"
    )
    registry = logs / "jobs-providers.yaml"
    Stack.write_registry_file(registry, [{**shipped, "url": piper.url}])
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


def _saturated(piper: ServiceProcess, book: str) -> float:
    """Audio seconds per wall second of `CONCURRENCY` clients speaking the book's paragraphs
    (as many as the job has) straight to the provider."""
    paragraphs = [p for p in book.split("\n\n") if not p.startswith("#")]
    work = iter(paragraphs)
    url = f"{piper.url}/v1/synthesize"

    def client() -> float:
        audio = 0.0
        for text in iter(lambda: next(work, None), None):
            audio += stream_post(url, {"text": text, "voice": "joe"}, 44_100).audio_seconds
        return audio

    started = time.perf_counter()
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        audio = sum(pool.map(lambda _: client(), range(CONCURRENCY)))
    return audio / (time.perf_counter() - started)


def _job(router: ServiceProcess, book: str) -> float:
    """Audio seconds per wall second of the book as one job, submission to outputs."""
    jobs = f"{router.url}/api/v1/audio/jobs"
    body = {"input": book, "model": "piper", "voice": "joe", "response_format": "mp3"}
    with httpx.Client(timeout=60) as client:
        started = time.perf_counter()
        response = client.post(jobs, json=body)
        response.raise_for_status()
        job_id = response.json()["id"]
        for _ in itertools.count():
            job = client.get(f"{jobs}/{job_id}").json()
            if job["status"] not in ("queued", "running"):
                break
            time.sleep(0.2)
        wall = time.perf_counter() - started
    if job["status"] != "succeeded":
        raise RuntimeError(f"the bench job ended {job['status']}: {job['error']}")
    return float(job["progress"]["audio_seconds"]) / wall


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")
