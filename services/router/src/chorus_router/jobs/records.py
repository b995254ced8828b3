"""Job rows over SQLite or PostgreSQL: a job's request, its chapters, its progress, and the
checkpoints of finished pieces. Every state change is one conditional UPDATE, so a cancel
and a worker's progress never overwrite each other. Calls block: callers use threads."""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any

from sqlalchemy import Connection, Engine, Row, delete, func, insert, select, update

from chorus_contracts import Conflict, QuotaExceeded, RateLimited, UnknownJob
from chorus_router.jobs.chapters import Chapter
from chorus_router.jobs.schema import audio_job_chapters, audio_job_pieces, audio_jobs
from chorus_router.lexicons.records import AppliedLexicons, entries_json, entries_of
from chorus_router.storage.pages import keyset_page
from chorus_text.lexicon import Lexicon


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def active(self) -> bool:
        return self in (JobStatus.QUEUED, JobStatus.RUNNING)


class ProviderDown(StrEnum):
    """What a job does when a chapter's provider stays down past `jobs.provider_down_s`."""

    FALLBACK = "fallback"
    WAIT = "wait"


class BookFormat(StrEnum):
    """The whole work as one file: an audiobook (M4B) or an MP3 with chapter frames."""

    M4B = "m4b"
    MP3 = "mp3"


class InputFormat(StrEnum):
    """What a job's document is: text (plain, Markdown or a speaker script) or SSML."""

    TEXT = "text"
    SSML = "ssml"


_DAY_US = 86_400 * 1_000_000
_ACTIVE = (JobStatus.QUEUED.value, JobStatus.RUNNING.value)


def _now_us() -> int:
    return time.time_ns() // 1000


def new_job_id() -> str:
    return f"job_{secrets.token_hex(16)}"


@dataclass(frozen=True)
class JobLexicons:
    """The lexicons a job resolved at submission, kept with it: every piece, those of a job
    resumed after a restart included, says its words by these entries, whatever becomes of
    the lexicons themselves (deleted, or replaced by others) meanwhile."""

    # `id:version` of each, in the order named (the first wins a word).
    versions: tuple[str, ...]
    # Their entries in that order, as the lexicon store's canonical JSON.
    entries: str

    @classmethod
    def of(cls, applied: AppliedLexicons) -> JobLexicons:
        return cls(applied.versions, entries_json(applied.lexicon.entries))

    @property
    def ids(self) -> list[str]:
        return [version.split(":", 1)[0] for version in self.versions]

    @cached_property
    def applied(self) -> AppliedLexicons:
        """Parsed when first asked for, once per loaded job: its pieces share the indexes
        the lexicon builds, and a job only looked at never parses them."""
        return AppliedLexicons(Lexicon(entries_of(self.entries)), self.versions)


@dataclass(frozen=True)
class JobSpec:
    """What the job speaks with: the speech request's fields, the same for every piece."""

    model: str
    voice: str
    response_format: str
    speed: float
    lang_code: str | None
    title: str
    # A speaker script's voice per speaker; None for a document in the one `voice`.
    voices: dict[str, str] | None = None
    # When a chapter's provider stays down: `fallback` redoes the chapter on the next
    # provider; `wait` keeps the chapter's provider and retries until it is back.
    on_provider_down: ProviderDown = ProviderDown.FALLBACK
    book_format: BookFormat = BookFormat.M4B
    input_format: InputFormat = InputFormat.TEXT
    # Captions per chapter where its provider times words (timing them costs it some work).
    captions: bool = True
    # Pronunciation lexicons applied to every piece; None for none.
    lexicons: JobLexicons | None = None


@dataclass(frozen=True)
class JobBounds:
    """What one user may have: jobs queued or running at once, characters a day."""

    max_active: int
    max_chars_per_day: int


@dataclass(frozen=True)
class ChapterRecord:
    index: int
    title: str
    text: str
    pieces: int
    provider: str | None
    sample_rate: int | None


@dataclass(frozen=True)
class JobRecord:
    id: str
    owner: str
    spec: JobSpec
    status: JobStatus
    pieces_total: int
    pieces_done: int
    audio_s: float
    error: str | None
    created_us: int
    updated_us: int
    finished_us: int | None
    outputs: list[dict[str, Any]] = field(default_factory=list)


class JobStore:
    """The job tables, as the API and the worker use them."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def create(
        self, owner: str, spec: JobSpec, chapters: list[tuple[Chapter, int]], bounds: JobBounds
    ) -> JobRecord:
        """A queued job with its chapters (each with its piece count); 403 while the owner
        already has `bounds.max_active` jobs queued or running, 429 once their jobs of the
        last 24 hours would speak more than `bounds.max_chars_per_day`."""
        stamp = _now_us()
        job_id = new_job_id()
        chars = sum(len(chapter.text) for chapter, _ in chapters)
        with self._engine.begin() as conn:
            _check_daily_chars(conn, owner, chars, bounds.max_chars_per_day, stamp)
            max_active = bounds.max_active
            active = conn.execute(
                select(func.count())
                .select_from(audio_jobs)
                .where(audio_jobs.c.owner == owner, audio_jobs.c.status.in_(_ACTIVE))
            ).scalar_one()
            if active >= max_active:
                raise QuotaExceeded(
                    f"{active} jobs are already queued or running (at most {max_active}); "
                    "wait for one to finish or cancel one"
                )
            conn.execute(
                insert(audio_jobs).values(
                    id=job_id,
                    owner=owner,
                    status=JobStatus.QUEUED.value,
                    chars=chars,
                    pieces_total=sum(count for _, count in chapters),
                    pieces_done=0,
                    audio_s=0.0,
                    created_us=stamp,
                    updated_us=stamp,
                    **_spec_columns(spec),
                )
            )
            conn.execute(
                insert(audio_job_chapters),
                [
                    {"job_id": job_id, "idx": i, "title": c.title, "text": c.text, "pieces": n}
                    for i, (c, n) in enumerate(chapters)
                ],
            )
        return self.get(job_id, owner)

    def get(self, job_id: str, owner: str | None) -> JobRecord:
        """The job; `owner` None for the worker, which works any owner's jobs."""
        query = select(audio_jobs).where(audio_jobs.c.id == job_id)
        if owner is not None:
            query = query.where(audio_jobs.c.owner == owner)
        with self._engine.begin() as conn:
            row = conn.execute(query).one_or_none()
        if row is None:
            raise UnknownJob(f"No job found with id '{job_id}'.", param="job_id")
        return _job(row)

    def page(self, owner: str, after: str | None, limit: int) -> tuple[list[JobRecord], bool]:
        """The owner's jobs newest first, from after the job `after`; and whether more follow."""
        query = select(audio_jobs).where(audio_jobs.c.owner == owner)
        key = (audio_jobs.c.created_us, audio_jobs.c.id)
        with self._engine.begin() as conn:
            mark = None
            if after is not None:
                created = conn.execute(
                    select(audio_jobs.c.created_us).where(
                        audio_jobs.c.id == after, audio_jobs.c.owner == owner
                    )
                ).scalar_one_or_none()
                if created is None:
                    raise UnknownJob(f"No job found with id '{after}'.", param="after")
                mark = (created, after)
            rows, more = keyset_page(conn, query, key, mark, limit, newest_first=True)
        return [_job(r) for r in rows], more

    def chapters(self, job_id: str, *, with_text: bool = True) -> list[ChapterRecord]:
        """The job's chapters in order; without their text (empty) for an outline."""
        columns = [c for c in audio_job_chapters.c if with_text or c.name != "text"]
        with self._engine.begin() as conn:
            rows = conn.execute(
                select(*columns)
                .where(audio_job_chapters.c.job_id == job_id)
                .order_by(audio_job_chapters.c.idx)
            ).all()
        return [
            ChapterRecord(
                r.idx, r.title, r.text if with_text else "", r.pieces, r.provider, r.sample_rate
            )
            for r in rows
        ]

    def active(self) -> dict[JobStatus, tuple[int, int]]:
        """Queued and running jobs: how many of each, and the oldest last change (us)."""
        with self._engine.begin() as conn:
            rows = conn.execute(
                select(audio_jobs.c.status, func.count(), func.min(audio_jobs.c.updated_us))
                .where(audio_jobs.c.status.in_(_ACTIVE))
                .group_by(audio_jobs.c.status)
            ).all()
        return {JobStatus(status): (count, oldest) for status, count, oldest in rows}

    def checkpoints(self, job_id: str) -> dict[tuple[int, int], int]:
        """(chapter, piece) -> samples of every piece already made."""
        with self._engine.begin() as conn:
            rows = conn.execute(
                select(audio_job_pieces).where(audio_job_pieces.c.job_id == job_id)
            ).all()
        return {(r.chapter, r.piece): r.samples for r in rows}

    def start(self, job_id: str) -> bool:
        """Queued (or resumed while running) to running; False when it is over already."""
        return self._move(job_id, _ACTIVE, status=JobStatus.RUNNING.value)

    def checkpoint(
        self, job_id: str, chapter: int, piece: int, samples: int, rate: int, pin: str | None
    ) -> bool:
        """Record a piece whose audio is stored; False (nothing recorded) once the job is
        no longer running, so a cancelled job gains no pieces. With `pin`, that provider
        (and `rate`) now speaks all of the chapter: its first piece chose it."""
        with self._engine.begin() as conn:
            moved = conn.execute(
                update(audio_jobs)
                .where(audio_jobs.c.id == job_id, audio_jobs.c.status == JobStatus.RUNNING.value)
                .values(
                    pieces_done=audio_jobs.c.pieces_done + 1,
                    audio_s=audio_jobs.c.audio_s + samples / rate,
                    updated_us=_now_us(),
                )
            ).rowcount
            if moved:
                conn.execute(
                    insert(audio_job_pieces).values(
                        job_id=job_id, chapter=chapter, piece=piece, samples=samples
                    )
                )
            if moved and pin is not None:
                conn.execute(
                    update(audio_job_chapters)
                    .where(
                        audio_job_chapters.c.job_id == job_id, audio_job_chapters.c.idx == chapter
                    )
                    .values(provider=pin, sample_rate=rate)
                )
        return bool(moved)

    def reset_chapter(self, job_id: str, chapter: int) -> None:
        """Forget the chapter's pieces and its provider, so that it is made anew by another
        provider; its progress goes back by what the pieces had added."""
        with self._engine.begin() as conn:
            made = conn.execute(
                select(func.count(), func.coalesce(func.sum(audio_job_pieces.c.samples), 0))
                .select_from(audio_job_pieces)
                .where(audio_job_pieces.c.job_id == job_id, audio_job_pieces.c.chapter == chapter)
            ).one()
            rate = conn.execute(
                select(audio_job_chapters.c.sample_rate).where(
                    audio_job_chapters.c.job_id == job_id, audio_job_chapters.c.idx == chapter
                )
            ).scalar_one()
            conn.execute(
                delete(audio_job_pieces).where(
                    audio_job_pieces.c.job_id == job_id, audio_job_pieces.c.chapter == chapter
                )
            )
            conn.execute(
                update(audio_job_chapters)
                .where(audio_job_chapters.c.job_id == job_id, audio_job_chapters.c.idx == chapter)
                .values(provider=None, sample_rate=None)
            )
            conn.execute(
                update(audio_jobs)
                .where(audio_jobs.c.id == job_id)
                .values(
                    pieces_done=audio_jobs.c.pieces_done - made[0],
                    audio_s=audio_jobs.c.audio_s - (made[1] / rate if rate else 0.0),
                    updated_us=_now_us(),
                )
            )

    def finish(
        self,
        job_id: str,
        status: JobStatus,
        *,
        error: str | None = None,
        outputs: list[dict[str, Any]] | None = None,
    ) -> bool:
        """A running job ends as `status`; False when it had ended already (cancelled)."""
        return self._move(
            job_id,
            (JobStatus.RUNNING.value,),
            status=status.value,
            error=error,
            outputs=json.dumps(outputs) if outputs is not None else None,
            finished_us=_now_us(),
        )

    def cancel(self, job_id: str, owner: str) -> JobRecord:
        """The owner's queued or running job, now cancelled; 409 for one that has ended."""
        job = self.get(job_id, owner)
        stamp = _now_us()
        if not self._move(job_id, _ACTIVE, status=JobStatus.CANCELLED.value, finished_us=stamp):
            raise Conflict(
                f"job '{job_id}' has already {self.get(job_id, owner).status}; only a "
                "queued or running job can be cancelled",
                param="job_id",
            )
        return self.get(job.id, owner)

    def take_outputs(self, job_id: str, owner: str) -> list[dict[str, Any]]:
        """The owner's ended job's outputs, now cleared from its row (the caller removes
        their files); 409 for a job still queued or running."""
        job = self.get(job_id, owner)
        if job.status.active:
            raise Conflict(
                f"job '{job_id}' is {job.status}; cancel it, which removes its partial files",
                param="job_id",
            )
        ended = tuple(s.value for s in JobStatus if not s.active)
        self._move(job_id, ended, outputs=None)
        return job.outputs

    def forget_pieces(self, job_id: str) -> None:
        """Drop the checkpoints (their audio was removed with the job's partial files)."""
        with self._engine.begin() as conn:
            conn.execute(delete(audio_job_pieces).where(audio_job_pieces.c.job_id == job_id))

    def _move(self, job_id: str, from_states: tuple[str, ...], **values: Any) -> bool:
        with self._engine.begin() as conn:
            moved = conn.execute(
                update(audio_jobs)
                .where(audio_jobs.c.id == job_id, audio_jobs.c.status.in_(from_states))
                .values(updated_us=_now_us(), **values)
            ).rowcount
        return bool(moved)


def _check_daily_chars(conn: Connection, owner: str, chars: int, limit: int, stamp_us: int) -> None:
    since = stamp_us - _DAY_US
    rows = conn.execute(
        select(audio_jobs.c.created_us, audio_jobs.c.chars)
        .where(audio_jobs.c.owner == owner, audio_jobs.c.created_us > since)
        .order_by(audio_jobs.c.created_us)
    ).all()
    used = sum(row.chars for row in rows)
    if used + chars <= limit:
        return
    # When enough of the day's jobs have left the window for this one to fit.
    freed, wait_us = 0, _DAY_US
    for row in rows:
        freed += row.chars
        if used - freed + chars <= limit:
            wait_us = row.created_us + _DAY_US - stamp_us
            break
    raise RateLimited(
        f"this job speaks {chars} characters and your jobs of the last 24 hours {used}; "
        f"at most {limit} a day",
        retry_after=max(1, wait_us // 1_000_000),
    )


def _spec_columns(spec: JobSpec) -> dict[str, Any]:
    lexicons = spec.lexicons
    return {
        **spec.__dict__,
        "voices": json.dumps(spec.voices) if spec.voices else None,
        "lexicons": None if lexicons is None else " ".join(lexicons.versions),
        "lexicon_entries": None if lexicons is None else lexicons.entries,
    }


def _job(row: Row[Any]) -> JobRecord:
    return JobRecord(
        id=row.id,
        owner=row.owner,
        spec=JobSpec(
            model=row.model,
            voice=row.voice,
            response_format=row.response_format,
            speed=row.speed,
            lang_code=row.lang_code,
            title=row.title,
            voices=json.loads(row.voices) if row.voices else None,
            on_provider_down=ProviderDown(row.on_provider_down),
            book_format=BookFormat(row.book_format),
            input_format=InputFormat(row.input_format),
            captions=bool(row.captions),
            lexicons=None
            if row.lexicons is None
            else JobLexicons(tuple(row.lexicons.split()), row.lexicon_entries),
        ),
        status=JobStatus(row.status),
        pieces_total=row.pieces_total,
        pieces_done=row.pieces_done,
        audio_s=row.audio_s,
        error=row.error,
        created_us=row.created_us,
        updated_us=row.updated_us,
        finished_us=row.finished_us,
        outputs=json.loads(row.outputs) if row.outputs else [],
    )
