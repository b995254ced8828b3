"""The work of one job: every piece spoken and checkpointed, then the outputs made.

Pieces already checkpointed are skipped, so a job resumed after its router stopped or died
makes only what is missing. A chapter's first piece chooses its provider; the chapter's
other pieces then go to that provider alone, several at a time. Cancelling (the task is
cancelled once the row says `cancelled`) and failing both remove the job's partial files.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import tempfile
import time
from collections.abc import Callable, Coroutine
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from opentelemetry import trace
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_never,
    wait_exponential_jitter,
)

from chorus_contracts import ChorusError, ProviderBusy, UpstreamError
from chorus_router.artifacts.catalog import StoredFile, now_us
from chorus_router.artifacts.links import new_file_id
from chorus_router.artifacts.store import ArtifactStore
from chorus_router.jobs.audio import ChapterAudio, WorkEncoder, piece_key
from chorus_router.jobs.captions import chapter_captions, store_words, words_key
from chorus_router.jobs.chapters import Piece
from chorus_router.jobs.records import ChapterRecord, JobRecord, JobStatus, JobStore, ProviderDown
from chorus_router.jobs.settings import JobSettings
from chorus_router.jobs.speaking import SpokenPiece, chapter_pieces, speak_piece
from chorus_router.metrics import RouterMetrics
from chorus_router.speech.policy import SpeechRouter

log = logging.getLogger("chorus.router.jobs")
tracer = trace.get_tracer("chorus.router")
_T = TypeVar("_T")
# The longest pause between two tries of a piece whose provider is down.
_MAX_BACKOFF_S = 10.0


class _Stopped(Exception):
    """The job's row left `running` (a cancel) while a piece was being made."""


class _ProviderDown(Exception):
    """The provider a chapter is pinned to kept failing past `jobs.provider_down_s`."""

    def __init__(self, provider: str) -> None:
        super().__init__(provider)
        self.provider = provider


@dataclass(frozen=True)
class _Chapter:
    record: ChapterRecord
    texts: list[Piece]


class JobRenderer:
    """Works jobs by id; any router replica's worker may call it for any job."""

    def __init__(
        self,
        store: JobStore,
        router: SpeechRouter,
        artifacts: ArtifactStore,
        settings: JobSettings,
        metrics: RouterMetrics,
    ) -> None:
        self._store = store
        self._router = router
        self._artifacts = artifacts
        self._settings = settings
        self._metrics = metrics

    async def render(self, job_id: str) -> None:
        """Run the job to its end; returns early for a job that has ended already."""
        if not await asyncio.to_thread(self._store.start, job_id):
            return
        job = await asyncio.to_thread(self._store.get, job_id, None)
        try:
            chapters = await asyncio.to_thread(self._store.chapters, job_id)
            done = await asyncio.to_thread(self._store.checkpoints, job_id)
            # Chapters run side by side, their pieces sharing the job's slots in order of
            # asking, so a chapter's lone first piece does not leave the others idle.
            slots = asyncio.Semaphore(self._settings.pieces_in_flight)
            spoken: list[asyncio.Future[ChapterAudio]] = [
                asyncio.get_running_loop().create_future() for _ in chapters
            ]

            async def speak(record: ChapterRecord, ready: asyncio.Future[ChapterAudio]) -> None:
                ready.set_result(await self._chapter(job, record, done, slots))

            with ExitStack() as files:
                # The files are encoded chapter by chapter as the chapters are finished,
                # while later ones are still spoken, not all after the last piece.
                encoded = _Encoded(files, self._artifacts.storage.spool_directory())
                await _all(
                    [
                        *(speak(c, ready) for c, ready in zip(chapters, spoken, strict=True)),
                        self._encode(job, spoken, encoded),
                    ]
                )
                audio = [ready.result() for ready in spoken]
                outputs = await self._publish(job, audio, encoded)
        except (asyncio.CancelledError, _Stopped):
            # A router stopping leaves its checkpoints for the resume; a cancel does not.
            if (await asyncio.to_thread(self._store.get, job_id, None)).status.active:
                raise
            await self.discard(job_id)
            return
        except ChorusError as exc:
            log.warning("job %s failed: %s", job_id, exc.message)
            await asyncio.to_thread(self._store.finish, job_id, JobStatus.FAILED, error=exc.message)
            self._metrics.jobs_finished.labels(JobStatus.FAILED.value).inc()
            await self.discard(job_id)
            return
        if await asyncio.to_thread(
            self._store.finish, job_id, JobStatus.SUCCEEDED, outputs=outputs
        ):
            self._metrics.jobs_finished.labels(JobStatus.SUCCEEDED.value).inc()
            self._metrics.job_seconds.observe(time.time() - job.created_us / 1e6)
            self._metrics.job_audio_seconds.observe(sum(c.duration_s for c in audio))
        # Either way the pieces have served their purpose (a job cancelled this late loses
        # only its checkpoints; its outputs expire with their links).
        await self.discard(job_id)

    async def discard(self, job_id: str) -> None:
        """Remove every piece the job may have stored, and their checkpoints."""
        chapters = await asyncio.to_thread(self._store.chapters, job_id, with_text=False)
        keys = [piece_key(job_id, c.index, p) for c in chapters for p in range(c.pieces)]

        def remove() -> None:
            for key in keys:
                self._artifacts.storage.delete(key)
                self._artifacts.storage.delete(words_key(key))

        await asyncio.to_thread(remove)
        await asyncio.to_thread(self._store.forget_pieces, job_id)

    async def _chapter(
        self,
        job: JobRecord,
        record: ChapterRecord,
        done: dict[tuple[int, int], int],
        slots: asyncio.Semaphore,
    ) -> ChapterAudio:
        """The chapter made by one provider: when its provider stays down past the bound
        (and the job falls back), the chapter's pieces are forgotten and it is made anew
        by the next provider, never mixing two voices."""
        texts = chapter_pieces(job.spec, record.text, self._settings.piece_chars)
        if len(texts) != record.pieces:
            raise UpstreamError(
                f"chapter {record.index} now splits into {len(texts)} pieces, not "
                f"{record.pieces}: jobs.piece_chars changed while the job was queued"
            )
        chapter = _Chapter(record, texts)
        avoid: frozenset[str] = frozenset()
        with tracer.start_as_current_span(
            "job.chapter", attributes={"job.id": job.id, "job.chapter": record.index}
        ) as span:
            while True:
                made = {
                    p: done[(record.index, p)]
                    for p in range(len(texts))
                    if (record.index, p) in done
                }
                try:
                    audio, provider = await self._speak_chapter(job, chapter, made, avoid, slots)
                except _ProviderDown as down:
                    log.warning(
                        "job %s: provider %s stayed down; chapter %d is redone on the next one",
                        job.id,
                        down.provider,
                        record.index,
                    )
                    self._metrics.job_chapter_fallbacks.labels(down.provider).inc()
                    span.add_event("chapter.fallback", {"provider": down.provider})
                    await self._forget_chapter(job.id, record)
                    done = {k: v for k, v in done.items() if k[0] != record.index}
                    chapter = _Chapter(replace(record, provider=None, sample_rate=None), texts)
                    avoid = avoid | {down.provider}
                    continue
                span.set_attribute("job.provider", provider)
                span.set_attribute("job.audio_s", audio.duration_s)
                return audio

    async def _speak_chapter(
        self,
        job: JobRecord,
        chapter: _Chapter,
        made: dict[int, int],
        avoid: frozenset[str],
        slots: asyncio.Semaphore,
    ) -> tuple[ChapterAudio, str]:
        """The chapter's missing pieces made; its audio and the provider that spoke it."""
        record = chapter.record
        todo = [p for p in range(len(chapter.texts)) if p not in made]
        provider, rate = record.provider, record.sample_rate
        if provider is None and todo:
            # The first piece made chooses the chapter's provider; the rest follow it.
            first = todo.pop(0)
            async with slots:
                provider, rate, made[first] = await self._piece(job, chapter, first, None, avoid)
            chapter = _Chapter(replace(record, provider=provider, sample_rate=rate), chapter.texts)

        async def one(piece: int) -> None:
            async with slots:
                _, _, made[piece] = await self._piece(job, chapter, piece, provider, avoid)

        await _all([one(piece) for piece in todo])
        assert rate is not None
        assert provider is not None
        keys = [(piece_key(job.id, record.index, p), made[p]) for p in range(len(chapter.texts))]
        return ChapterAudio(record.index, record.title, rate, keys), provider

    async def _forget_chapter(self, job_id: str, record: ChapterRecord) -> None:
        await asyncio.to_thread(self._store.reset_chapter, job_id, record.index)

        def remove() -> None:
            for piece in range(record.pieces):
                key = piece_key(job_id, record.index, piece)
                self._artifacts.storage.delete(key)
                self._artifacts.storage.delete(words_key(key))

        await asyncio.to_thread(remove)

    async def _piece(
        self,
        job: JobRecord,
        chapter: _Chapter,
        piece: int,
        pinned: str | None,
        avoid: frozenset[str],
    ) -> tuple[str, int, int]:
        """Speak, store and checkpoint one piece: (provider, sample rate, samples)."""
        index = chapter.record.index
        spoken = await self._persist(job, chapter.texts[piece], pinned, avoid, index, piece)
        rate = chapter.record.sample_rate
        if rate is not None and spoken.sample_rate != rate:
            raise UpstreamError(
                f"provider {spoken.provider} changed its sample rate mid-chapter "
                f"({rate} to {spoken.sample_rate} Hz)"
            )
        key = piece_key(job.id, index, piece)
        samples = len(spoken.pcm) // 2

        # The chapter's first piece pins its provider in the same write as its checkpoint.
        pin = spoken.provider if pinned is None else None

        def store() -> bool:
            self._artifacts.storage.publish(key, io.BytesIO(spoken.pcm), "audio/pcm")
            if spoken.words is not None:
                store_words(self._artifacts.storage, key, spoken.words)
            return self._store.checkpoint(job.id, index, piece, samples, spoken.sample_rate, pin)

        if not await _blocking(store):
            raise _Stopped
        self._metrics.job_pieces.labels(spoken.provider).inc()
        return spoken.provider, spoken.sample_rate, samples

    async def _persist(
        self,
        job: JobRecord,
        piece: Piece,
        pinned: str | None,
        avoid: frozenset[str],
        chapter: int,
        number: int,
    ) -> SpokenPiece:
        """The piece, retried with backoff while its providers fail in a way worth
        retrying: until they have been down for `jobs.provider_down_s`, or, for a job that
        waits, until they are back. A busy provider is up: the piece waits for it however
        long. A pinned provider that stays down past the bound raises `_ProviderDown`."""
        waits = job.spec.on_provider_down == ProviderDown.WAIT
        retrying = AsyncRetrying(
            stop=stop_never if waits else _DownFor(self._settings.provider_down_s),
            wait=wait_exponential_jitter(initial=0.5, max=_MAX_BACKOFF_S),
            retry=retry_if_exception(lambda exc: isinstance(exc, ChorusError) and exc.retryable),
            reraise=True,
        )
        request_id = f"{job.id}-{chapter}-{number}"
        try:
            async for attempt in retrying:
                with attempt:
                    return await speak_piece(
                        self._router, job.spec, piece, pinned, avoid, request_id
                    )
        except ChorusError as exc:
            if pinned is not None and exc.retryable:
                raise _ProviderDown(pinned) from exc
            raise
        raise AssertionError("tenacity stops by raising")

    async def _encode(
        self, job: JobRecord, spoken: list[asyncio.Future[ChapterAudio]], encoded: _Encoded
    ) -> None:
        """Each chapter's file and the whole work, fed each chapter in order once it is
        spoken. One piece at a time in a thread, so a cancel waits for one piece at most."""
        storage, fmt = self._artifacts.storage, job.spec.response_format
        work = WorkEncoder(
            storage,
            fmt,
            job.spec.book_format,
            encoded.book,
            len(spoken),
            self._settings.chapter_gap_s,
        )
        try:
            for ready in spoken:
                chapter = await ready
                out = encoded.spool()
                await _blocking(work.begin_chapter, chapter, out)
                for key, samples in chapter.pieces:
                    await _blocking(work.add_piece, key, samples)
                await _blocking(work.end_chapter)
                encoded.chapters.append(out)
                encoded.captions.append(await _blocking(chapter_captions, storage, chapter))
            await _blocking(work.finish, job.spec.title)
        finally:
            work.close()

    async def _publish(
        self, job: JobRecord, audio: list[ChapterAudio], encoded: _Encoded
    ) -> list[dict[str, Any]]:
        """The outputs as download-link files of the job's owner: each chapter, the book,
        then the manifest that lists them."""
        fmt = job.spec.response_format
        expires_us = (int(time.time()) + self._settings.output_ttl_s) * 1_000_000
        outputs: list[dict[str, Any]] = []
        for chapter, out in zip(audio, encoded.chapters, strict=True):
            file = await self._store_file(job, fmt, chapter.duration_s, expires_us, out)
            outputs.append(_output("chapter", file, chapter=chapter.index, title=chapter.title))
        for chapter, captions in zip(audio, encoded.captions, strict=True):
            if captions is None:
                continue
            for caption_format, text in zip(("vtt", "srt"), captions, strict=True):
                out = encoded.spool()
                out.write(text.encode())
                file = await self._store_file(job, caption_format, 0.0, expires_us, out)
                outputs.append(_output("captions", file, chapter=chapter.index))
        gap = self._settings.chapter_gap_s
        book_s = sum(c.duration_s for c in audio) + gap * max(0, len(audio) - 1)
        book = await self._store_file(
            job, job.spec.book_format.value, book_s, expires_us, encoded.book
        )
        outputs.append(_output("book", file=book))
        manifest = encoded.spool()
        manifest.write(json.dumps(_manifest(job, audio, outputs), indent=2).encode())
        outputs.append(
            _output("manifest", await self._store_file(job, "json", 0.0, expires_us, manifest))
        )
        return outputs

    async def _store_file(
        self, job: JobRecord, fmt: str, duration_s: float, expires_us: int, out: BinaryIO
    ) -> StoredFile:
        file = StoredFile(
            id=new_file_id(),
            kind="link",
            owner=job.owner,
            format=fmt,
            provider=None,
            bytes=out.seek(0, io.SEEK_END),
            duration_s=duration_s,
            created_us=now_us(),
            expires_us=expires_us,
        )
        await self._artifacts.publish(out, file, None)
        return file


class _DownFor:
    """A tenacity stop: once the failures, busy refusals aside, have lasted `bound_s`
    without a busy one between them."""

    def __init__(self, bound_s: float) -> None:
        self._bound_s = bound_s
        self._since: float | None = None

    def __call__(self, state: RetryCallState) -> bool:
        error = state.outcome.exception() if state.outcome is not None else None
        if isinstance(error, ProviderBusy):
            self._since = None
            return False
        now = time.monotonic()
        if self._since is None:
            self._since = now
        return now - self._since >= self._bound_s


class _Encoded:
    """The job's files as they are encoded: spooled to real files (the MP4 muxer seeks back
    to write its index), removed when the job's work ends."""

    def __init__(self, files: ExitStack, directory: Path | None) -> None:
        self._files = files
        self._directory = directory
        self.book = self.spool()
        self.chapters: list[BinaryIO] = []
        # Each chapter's (WebVTT, SRT), or None where its provider did not time words.
        self.captions: list[tuple[str, str] | None] = []

    def spool(self) -> BinaryIO:
        return self._files.enter_context(tempfile.TemporaryFile(dir=self._directory))


async def _all(work: list[Coroutine[Any, Any, _T]]) -> list[_T]:
    """Run `work` side by side, results in order; the first failure stops the rest and is
    raised as itself (the others were cancelled because of it)."""
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(each) for each in work]
    except BaseExceptionGroup as failed:
        raise failed.exceptions[0] from None
    return [task.result() for task in tasks]


async def _blocking(work: Callable[..., _T], *args: Any) -> _T:
    """`work(*args)` in a thread, waited for even when the task is cancelled meanwhile: a
    cancelled job's cleanup must not run while its thread still writes a piece or a file."""
    running = asyncio.ensure_future(asyncio.to_thread(work, *args))
    try:
        return await asyncio.shield(running)
    except asyncio.CancelledError:
        await asyncio.wait([running])
        raise


def _output(kind: str, file: StoredFile, **extra: object) -> dict[str, Any]:
    return {
        "kind": kind,
        **extra,
        "file": file.key,
        "format": file.format,
        "bytes": file.bytes,
        "duration_s": round(file.duration_s, 3),
        "expires_at": (file.expires_us or 0) // 1_000_000,
    }


def _manifest(
    job: JobRecord, audio: list[ChapterAudio], outputs: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "job": job.id,
        "title": job.spec.title,
        "model": job.spec.model,
        "voice": job.spec.voice,
        "chapters": [
            {"index": c.index, "title": c.title, "duration_s": round(c.duration_s, 3)}
            for c in audio
        ],
        "files": outputs,
    }
