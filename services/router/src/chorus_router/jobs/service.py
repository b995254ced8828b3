"""Jobs as the API sees them: a checked submission queued, a cancel that stops the work and
removes the partial files. Everything a submission can get wrong is a 400 before anything
is stored or queued."""

from __future__ import annotations

import asyncio

from chorus_contracts import InvalidRequest, UnknownModel, UnknownVoice
from chorus_router.jobs.chapters import Chapter, markdown_chapters, pieces
from chorus_router.jobs.queue import JobQueue
from chorus_router.jobs.records import JobRecord, JobSpec, JobStore
from chorus_router.jobs.rendering import JobRenderer
from chorus_router.jobs.settings import JobSettings
from chorus_router.jobs.speaking import piece_request
from chorus_router.speech.policy import SpeechRouter
from chorus_router.speech.text_hygiene import clean_text


class Jobs:
    """The job store, its queue and the renderer that works it, for one router."""

    def __init__(
        self,
        settings: JobSettings,
        store: JobStore,
        queue: JobQueue,
        renderer: JobRenderer,
        router: SpeechRouter,
    ) -> None:
        self.settings = settings
        self.store = store
        self.queue = queue
        self.renderer = renderer
        self._router = router

    async def submit(self, owner: str, spec: JobSpec, document: str) -> JobRecord:
        """The document checked, split and queued as a job of `owner`."""
        chapters = self.chapters_of(spec, document)
        self._check_speakable(spec, chapters[0][0])
        job = await asyncio.to_thread(
            self.store.create, owner, spec, chapters, self.settings.max_active_per_user
        )
        await self.queue.submit(job.id)
        return job

    async def cancel(self, owner: str, job_id: str) -> JobRecord:
        """Cancel the owner's job: the row first (so no further piece is recorded), then the
        worker, wherever it runs, then whatever pieces were stored."""
        job = await asyncio.to_thread(self.store.cancel, job_id, owner)
        await self.queue.cancel(job_id)
        await self.renderer.discard(job_id)
        return job

    def chapters_of(self, spec: JobSpec, document: str) -> list[tuple[Chapter, int]]:
        """The document's chapters with their piece counts; 400 for a document too long,
        without words, or with too many chapters."""
        limit = self.settings.max_input_chars
        if len(document) > limit:
            raise InvalidRequest(
                f"input is {len(document)} characters; a job takes at most {limit}",
                param="input",
            )
        chapters = markdown_chapters(clean_text(document), spec.title)
        if not chapters:
            raise InvalidRequest("input must contain text to speak", param="input")
        if len(chapters) > self.settings.max_chapters:
            raise InvalidRequest(
                f"input has {len(chapters)} chapters; a job takes at most "
                f"{self.settings.max_chapters}",
                param="input",
            )
        size = self.settings.piece_chars
        return [(chapter, len(pieces(chapter.text, size))) for chapter in chapters]

    def _check_speakable(self, spec: JobSpec, first: Chapter) -> None:
        """The model, voice, language and speed plan as a speech request would; an unknown
        model or voice is a bad field of this request (400), not a missing resource."""
        text = pieces(first.text, self.settings.piece_chars)[0]
        try:
            self._router.plan(piece_request(spec, text))
        except (UnknownModel, UnknownVoice) as exc:
            raise InvalidRequest(exc.message, param=exc.param) from None
