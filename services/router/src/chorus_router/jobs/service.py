"""Jobs as the API sees them: a checked submission queued, a cancel that stops the work and
removes the partial files. Everything a submission can get wrong is a 400 before anything
is stored or queued."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from chorus_contracts import InvalidRequest, UnknownFile, UnknownModel, UnknownVoice
from chorus_router.artifacts.links import parse_name
from chorus_router.artifacts.store import ArtifactStore
from chorus_router.jobs.chapters import Chapter, Piece, markdown_chapters
from chorus_router.jobs.epub import EpubBounds, epub_chapters
from chorus_router.jobs.queue import JobQueue
from chorus_router.jobs.records import InputFormat, JobBounds, JobRecord, JobSpec, JobStore
from chorus_router.jobs.rendering import JobRenderer
from chorus_router.jobs.script import script_chapters
from chorus_router.jobs.settings import JobSettings
from chorus_router.jobs.speaking import chapter_pieces, speakers
from chorus_router.speech.policy import SpeechRouter
from chorus_router.speech.text_hygiene import clean_text

# Every EPUB is a zip, and a zip's first entry starts with this.
_ZIP_MAGIC = b"PK\x03\x04"


class Jobs:
    """The job store, its queue and the renderer that works it, for one router."""

    def __init__(
        self,
        settings: JobSettings,
        store: JobStore,
        queue: JobQueue,
        renderer: JobRenderer,
        router: SpeechRouter,
        artifacts: ArtifactStore,
        max_stored_bytes: int,
    ) -> None:
        self.settings = settings
        self._artifacts = artifacts
        self._max_stored_bytes = max_stored_bytes
        self.store = store
        self.queue = queue
        self.renderer = renderer
        self._router = router

    async def submit_text(self, owner: str, spec: JobSpec, document: str) -> JobRecord:
        """A Markdown document (or, with `spec.voices`, a speaker script; or an SSML
        document, one chapter) queued as a job."""
        self._check_length(len(document))
        if spec.input_format == InputFormat.SSML or document.lstrip().startswith("<speak"):
            if spec.voices is not None:
                raise InvalidRequest("`voices` is for speaker scripts, not SSML", param="voices")
            # Compiled (and so checked) as its pieces are counted, before anything is stored.
            spec = replace(spec, input_format=InputFormat.SSML)
            return await self._submit(owner, spec, [Chapter(spec.title, document)])
        document = clean_text(document)
        if spec.voices is not None:
            chapters = script_chapters(document, spec.voices, spec.title)
        else:
            chapters = markdown_chapters(document, spec.title)
        return await self._submit(owner, spec, chapters)

    async def submit_file(self, owner: str, spec: JobSpec, data: bytes) -> JobRecord:
        """An uploaded EPUB, or a UTF-8 text or Markdown file, queued as a job."""
        if not data.startswith(_ZIP_MAGIC):
            try:
                document = data.decode("utf-8-sig")
            except UnicodeDecodeError:
                raise InvalidRequest(
                    "the file is refused: it is neither an EPUB nor UTF-8 text", param="file"
                ) from None
            return await self.submit_text(owner, spec, document)
        if spec.voices is not None:
            raise InvalidRequest("`voices` is for speaker scripts, not EPUBs", param="voices")
        bounds = EpubBounds(self.settings.max_unpacked_bytes)
        read = await asyncio.to_thread(epub_chapters, data, bounds)
        self._check_length(sum(len(c.text) for c in read))
        chapters = [Chapter(c.title, clean_text(c.text)) for c in read]
        return await self._submit(owner, spec, chapters)

    async def cancel(self, owner: str, job_id: str) -> JobRecord:
        """Cancel the owner's job: the row first (so no further piece is recorded), then the
        worker, wherever it runs, then whatever pieces were stored."""
        job = await asyncio.to_thread(self.store.cancel, job_id, owner)
        await self.queue.cancel(job_id)
        await self.renderer.discard(job_id)
        return job

    async def delete_outputs(self, owner: str, job_id: str) -> JobRecord:
        """Remove the files of the owner's ended job now, before their links expire; the
        job stays, with no outputs. 409 for a job still queued or running."""
        outputs = await asyncio.to_thread(self.store.take_outputs, job_id, owner)
        removed = []
        for output in outputs:
            name = parse_name(output["file"])
            if name is None:
                continue
            try:
                removed.append(
                    await asyncio.to_thread(self._artifacts.catalog.delete_link, name[0], owner)
                )
            except UnknownFile:
                continue  # expired and swept already
        await self._artifacts.remove(removed)
        return await asyncio.to_thread(self.store.get, job_id, owner)

    async def _submit(self, owner: str, spec: JobSpec, chapters: list[Chapter]) -> JobRecord:
        counted = self._counted(spec, chapters)
        self._check_speakable(spec, counted)
        # The outputs are the owner's download links: a job waits for room among them.
        await asyncio.to_thread(
            self._artifacts.catalog.check_link_quota, owner, self._max_stored_bytes
        )
        bounds = JobBounds(self.settings.max_active_per_user, self.settings.max_chars_per_day)
        job = await asyncio.to_thread(
            self.store.create,
            owner,
            spec,
            [(chapter, len(made)) for chapter, made in counted],
            bounds,
        )
        await self.queue.submit(job.id)
        return job

    def _check_length(self, chars: int) -> None:
        limit = self.settings.max_input_chars
        if chars > limit:
            raise InvalidRequest(
                f"input is {chars} characters; a job takes at most {limit}", param="input"
            )

    def _counted(self, spec: JobSpec, chapters: list[Chapter]) -> list[tuple[Chapter, list[Piece]]]:
        """The chapters with their pieces; 400 for no words or too many chapters."""
        if not chapters:
            raise InvalidRequest("input must contain text to speak", param="input")
        if len(chapters) > self.settings.max_chapters:
            raise InvalidRequest(
                f"input has {len(chapters)} chapters; a job takes at most "
                f"{self.settings.max_chapters}",
                param="input",
            )
        size = self.settings.piece_chars
        return [(chapter, chapter_pieces(spec, chapter.text, size)) for chapter in chapters]

    def _check_speakable(self, spec: JobSpec, counted: list[tuple[Chapter, list[Piece]]]) -> None:
        """Each voice the job uses plans as a speech request would, and all of them share a
        provider (one provider speaks a chapter). An unknown model or voice is a bad field
        of this request (400), not a missing resource."""
        sample = counted[0][1][0].text
        voices = sorted(set((spec.voices or {spec.title: spec.voice}).values()))
        shared: set[str] | None = None
        for voice in voices:
            try:
                able = speakers(self._router, spec, Piece(sample, voice))
            except (UnknownModel, UnknownVoice) as exc:
                param = "voices" if spec.voices is not None and exc.param == "voice" else exc.param
                raise InvalidRequest(exc.message, param=param) from None
            shared = set(able) if shared is None else shared & set(able)
        if not shared:
            raise InvalidRequest(
                f"no one provider speaks all of the voices {', '.join(voices)} with model "
                f"'{spec.model}'; each chapter is spoken by one provider",
                param="voices",
            )
