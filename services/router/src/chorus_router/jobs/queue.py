"""The job queue: saq, on the Redis the chart already runs (and `make run` starts).

saq owns delivery: a queued job goes to one worker of any router replica; a worker that
stops (a router shutting down) puts its jobs back; one that dies stops touching its job,
and a sweep hands the job to another worker after `heartbeat_s`; an abort reaches the
worker running the job, wherever it is, within a fraction of a second. The job's own rows
(records.py) and checkpoints say where the work stands, so whoever takes it resumes there.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import Any, cast

from redis.exceptions import RedisError
from saq import Job, Worker
from saq.queue.redis import RedisQueue
from saq.types import PartialTimersDict

from chorus_router.jobs.settings import JobSettings

log = logging.getLogger("chorus.router.jobs")
QUEUE_NAME = "chorus-audio-jobs"
_RENDER = "render_job"
# How often a worker looks for aborted jobs (a cancel stops the work within this and the
# time the cancelled piece takes to stop).
_ABORT_CHECK_S = 0.2
# Pauses after failed dequeues while Redis cannot be reached: doubling from the first to
# the last, back to the first once a dequeue works.
_FIRST_PAUSE_S = 0.1
_LAST_PAUSE_S = 5.0


class _PacedQueue(RedisQueue):
    """saq's Redis queue, pausing after a dequeue that failed. saq's worker starts the next
    dequeue as soon as one fails, so while Redis was down (a restart, a failover) the
    router spun a whole core on connection errors it never logged."""

    _pause_s = 0.0

    async def dequeue(
        self,
        timeout: float = 0.0,  # noqa: ASYNC109 (saq's signature)
        poll_interval: float = 0.0,
    ) -> Job | None:
        try:
            job = await super().dequeue(timeout, poll_interval)
        except RedisError as exc:
            self._pause_s = min(_LAST_PAUSE_S, max(_FIRST_PAUSE_S, 2 * self._pause_s))
            log.warning("the job queue is unreachable (%s); next try in %gs", exc, self._pause_s)
            await asyncio.sleep(self._pause_s)
            raise
        self._pause_s = 0.0
        return job


class JobQueue:
    """Submits and cancels jobs, and works them in this router with `render`."""

    def __init__(
        self, url: str, render: Callable[[str], Awaitable[None]], settings: JobSettings
    ) -> None:
        self._queue = _PacedQueue.from_url(url, name=QUEUE_NAME)
        self._render = render
        self._settings = settings
        self._worker: Worker[Any] = Worker(
            self._queue,
            functions=[(_RENDER, self._work)],
            concurrency=settings.workers,
            # saq types its timers as int seconds; it only sleeps on them, so a fraction works.
            timers=cast(
                PartialTimersDict, {"abort": _ABORT_CHECK_S, "sweep": settings.heartbeat_s}
            ),
        )
        # The server that runs the router owns the process's signals.
        self._worker.SIGNALS = []
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Connect (a queue that cannot be reached fails start-up) and start working."""
        await self._queue.connect()
        await self._queue.count("queued")
        self._task = asyncio.create_task(self._worker.start(), name="job-worker")

    async def close(self) -> None:
        """Stop working: jobs in progress go back to the queue, their checkpoints kept."""
        await self._worker.stop()
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
        await self._queue.disconnect()

    async def submit(self, job_id: str) -> None:
        await self._queue.enqueue(
            _RENDER,
            key=job_id,
            job_id=job_id,
            timeout=0,
            heartbeat=self._settings.heartbeat_s,
            retries=self._settings.max_resumes + 1,
        )

    async def cancel(self, job_id: str) -> None:
        """Stop the job wherever it runs (its row already says cancelled)."""
        job = await self._queue.job(job_id)
        if job is not None and not job.completed:
            await self._queue.abort(job, "cancelled")

    async def _work(self, ctx: dict[str, Any], *, job_id: str) -> None:
        job = ctx["job"]
        interval = self._settings.heartbeat_s / 3

        async def beat() -> None:
            while True:
                await asyncio.sleep(interval)
                await job.update()

        heart = asyncio.create_task(beat(), name=f"job-heartbeat-{job_id}")
        try:
            await self._render(job_id)
        finally:
            heart.cancel()
            with suppress(asyncio.CancelledError):
                await heart
