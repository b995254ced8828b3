"""`/api/v1/audio/jobs`: long-form jobs, submitted, followed (JSON or SSE), listed and
cancelled. Every route is scoped to the caller: another user's job is a 404, exactly like
one that does not exist."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chorus_contracts import (
    MAX_SPEED,
    MIN_SPEED,
    InvalidRequest,
    LexiconIds,
    ResponseFormat,
    ServiceUnavailable,
)
from chorus_contracts.responses import describe_validation
from chorus_router.api.caller import caller_of, owner_of
from chorus_router.api.lexicons import applied_lexicons
from chorus_router.api.services import RouterServices, get_services
from chorus_router.artifacts.links import LinkPolicy
from chorus_router.audit import AuditAction, AuditEntry, audited
from chorus_router.identity import Principal, Scope
from chorus_router.jobs.records import (
    BookFormat,
    InputFormat,
    JobLexicons,
    JobRecord,
    JobSpec,
    ProviderDown,
)
from chorus_router.jobs.script import MAX_SPEAKERS
from chorus_router.jobs.service import Jobs
from chorus_router.jobs.settings import JobSettings
from chorus_router.security import RouteClass, rate_limited, require
from chorus_router.voices.uploads import FORM_OVERHEAD_BYTES, read_upload

JOBS_PATH = "/api/v1/audio/jobs"
router = APIRouter(dependencies=[Depends(require(Scope.SPEECH))])
# How often an event stream looks at its job's row (any replica may be working it).
_EVENT_POLL_S = 0.25

Owner = Annotated[str, Depends(owner_of)]
Services = Annotated[RouterServices, Depends(get_services)]
JobPath = Annotated[str, Path(min_length=1, max_length=40)]
_Model = TypeVar("_Model", bound=BaseModel)
VoiceName = Annotated[str, Field(min_length=1, max_length=200)]


class JobOptions(BaseModel):
    """How a job speaks its document: the fields of a JSON submission but `input`, and the
    text fields of a multipart one beside its `file`."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(min_length=1, max_length=200)
    voice: VoiceName
    response_format: ResponseFormat = "mp3"
    speed: float = Field(default=1.0, ge=MIN_SPEED, le=MAX_SPEED)
    lang_code: str | None = Field(default=None, max_length=32)
    title: str | None = Field(default=None, min_length=1, max_length=200)
    # A speaker script's voice per speaker (the input is then `SPEAKER: line` lines).
    voices: dict[Annotated[str, Field(min_length=1, max_length=40)], VoiceName] | None = Field(
        default=None, min_length=1, max_length=MAX_SPEAKERS
    )
    on_provider_down: Literal["fallback", "wait"] = "fallback"
    # The whole work: an audiobook (AAC in MP4) or an MP3 with ID3 chapter frames.
    book_format: Literal["m4b", "mp3"] = "m4b"
    # "ssml": the input is one SSML document (an input starting with "<speak" is one anyway).
    input_format: Literal["text", "ssml"] = "text"
    # WebVTT and SRT per chapter where its provider times words; false spares it that work.
    captions: bool = True
    # Pronunciation lexicons by id, resolved once at submission; None: the API key's
    # defaults, [] none.
    lexicons: LexiconIds | None = None

    def spec(self, lexicons: JobLexicons | None) -> JobSpec:
        return JobSpec(
            model=self.model,
            voice=self.voice,
            response_format=self.response_format,
            speed=self.speed,
            lang_code=self.lang_code,
            title=self.title or "Untitled",
            voices=self.voices,
            on_provider_down=ProviderDown(self.on_provider_down),
            book_format=BookFormat(self.book_format),
            input_format=InputFormat(self.input_format),
            captions=self.captions,
            lexicons=lexicons,
        )


class JobRequest(JobOptions):
    """A document to speak: plain text or Markdown, where headings start chapters; or, with
    `voices`, a speaker script."""

    input: str = Field(min_length=1)


class JobProgress(BaseModel):
    pieces_done: int
    pieces_total: int
    audio_seconds: float


class JobChapter(BaseModel):
    index: int
    title: str
    pieces: int
    provider: str | None


class JobOutput(BaseModel):
    kind: Literal["chapter", "captions", "book", "manifest"]
    chapter: int | None = None
    title: str | None = None
    format: str
    bytes: int
    duration_s: float
    download_path: str
    expires_at: int


class JobView(BaseModel):
    id: str
    object: Literal["audio.job"] = "audio.job"
    status: str
    title: str
    model: str
    voice: str
    response_format: str
    created_at: float
    finished_at: float | None
    progress: JobProgress
    chapters: list[JobChapter]
    outputs: list[JobOutput]
    error: str | None
    # The lexicons the job applies (those named, or the key's defaults), by id.
    lexicons: list[str]

    @classmethod
    def of(cls, job: JobRecord, chapters: list[JobChapter], links: LinkPolicy) -> JobView:
        return cls(
            id=job.id,
            status=job.status.value,
            title=job.spec.title,
            model=job.spec.model,
            voice=job.spec.voice,
            response_format=job.spec.response_format,
            created_at=job.created_us / 1e6,
            finished_at=None if job.finished_us is None else job.finished_us / 1e6,
            progress=JobProgress(
                pieces_done=job.pieces_done,
                pieces_total=job.pieces_total,
                audio_seconds=round(job.audio_s, 3),
            ),
            chapters=chapters,
            outputs=[_output(o, links) for o in job.outputs],
            error=job.error,
            lexicons=[] if job.spec.lexicons is None else job.spec.lexicons.ids,
        )


class JobList(BaseModel):
    object: Literal["list"] = "list"
    data: list[JobView]
    first_id: str | None
    last_id: str | None
    has_more: bool


async def _jobs(services: Services) -> Jobs:
    if services.jobs is None:
        raise ServiceUnavailable(
            "long-form jobs are off in this router: set jobs.queue_url "
            "(CHORUS_ROUTER_JOBS__QUEUE_URL) to a Redis",
            retry_after=60,
        )
    return services.jobs


JobsDep = Annotated[Jobs, Depends(_jobs)]


def _submission_body() -> dict[str, Any]:
    """OpenAPI for the two bodies the handler reads itself: JSON, or a form with a file."""
    fields = {name: {"type": "string"} for name in JobOptions.model_fields}
    form = {
        "type": "object",
        "properties": {"file": {"type": "string", "format": "binary"}, **fields},
        "required": ["file", "model", "voice"],
    }
    # Inline: a body the handler reads itself puts no schema among the components.
    json_schema = JobRequest.model_json_schema()
    content = {"application/json": {"schema": json_schema}, "multipart/form-data": {"schema": form}}
    return {"requestBody": {"required": True, "content": content}}


@router.post(
    JOBS_PATH,
    status_code=202,
    dependencies=[Depends(rate_limited(RouteClass.SYNTHESIS))],
    openapi_extra=_submission_body(),
)
async def create_job(
    request: Request,
    caller: Annotated[Principal, Depends(caller_of)],
    services: Services,
    jobs: JobsDep,
    audit: Annotated[AuditEntry, audited(AuditAction.JOB_CREATE)],
) -> JobView:
    """Queue a document for speech; answers at once with the queued job. JSON with `input`
    (text, Markdown or a speaker script), or multipart with a `file` (an EPUB, whose table
    of contents gives the chapters, or a UTF-8 text file) and the other fields as text
    (`voices` and `lexicons` as JSON)."""
    owner = caller.user_id
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await read_upload(request, frozenset({"file"}), jobs.settings.max_file_bytes)
        fields: dict[str, Any] = dict(form.fields)
        for name in ("voices", "lexicons"):
            if name in fields:
                fields[name] = _json_field(name, fields[name])
        options = _validated(JobOptions, fields)
        data = form.files.get("file")
        if data is None:
            raise InvalidRequest("Missing required parameter: 'file'.", param="file")
        spec = options.spec(await _resolved(services, caller, options.lexicons))
        job = await jobs.submit_file(owner, spec, data)
    else:
        body = _validated(JobRequest, _json_field("body", await request.body()))
        spec = body.spec(await _resolved(services, caller, body.lexicons))
        job = await jobs.submit_text(owner, spec, body.input)
    audit.resource_id = job.id
    return await _view(services, jobs, job)


async def _resolved(
    services: RouterServices, caller: Principal, named: list[str] | None
) -> JobLexicons | None:
    """The lexicons the job applies, resolved now, as a speech request's are: every piece
    says its words by these entries, however long the job waits or runs."""
    applied = await applied_lexicons(services, caller, named)
    return None if applied is None else JobLexicons.of(applied)


def _json_field(name: str, raw: str | bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        raise InvalidRequest(
            f"'{name}' is not valid JSON", param=None if name == "body" else name
        ) from None


def _validated(model: type[_Model], data: Any) -> _Model:
    """`data` as `model`, its first problem a 400 worded as FastAPI's own validation's."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]
        raise describe_validation(RequestValidationError(errors)) from None


@router.get(JOBS_PATH)
async def list_jobs(
    owner: Owner,
    services: Services,
    jobs: JobsDep,
    after: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> JobList:
    """The caller's jobs, newest first; pass a page's `last_id` as `after` for the next."""
    records, has_more = await asyncio.to_thread(jobs.store.page, owner, after, limit)
    data = [await _view(services, jobs, job) for job in records]
    return JobList(
        data=data,
        first_id=data[0].id if data else None,
        last_id=data[-1].id if data else None,
        has_more=has_more,
    )


@router.get(f"{JOBS_PATH}/{{job_id}}")
async def get_job(job_id: JobPath, owner: Owner, services: Services, jobs: JobsDep) -> JobView:
    """The job's status, progress, chapters and (once it succeeded) download links."""
    job = await asyncio.to_thread(jobs.store.get, job_id, owner)
    return await _view(services, jobs, job)


@router.get(
    f"{JOBS_PATH}/{{job_id}}/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def job_events(
    job_id: JobPath, owner: Owner, services: Services, jobs: JobsDep
) -> StreamingResponse:
    """SSE: a `job.progress` event with the whole job at each change, then one event named
    by its end (`job.succeeded`, `job.failed`, `job.cancelled`), and the stream closes."""
    first = await asyncio.to_thread(jobs.store.get, job_id, owner)

    async def events() -> AsyncIterator[bytes]:
        job, seen = first, -1
        while True:
            if job.updated_us != seen:
                seen = job.updated_us
                view = await _view(services, jobs, job)
                kind = "job.progress" if job.status.active else f"job.{job.status.value}"
                yield _event({"type": kind, "job": view.model_dump()})
            if not job.status.active:
                return
            await asyncio.sleep(_EVENT_POLL_S)
            job = await asyncio.to_thread(jobs.store.get, job_id, owner)

    return StreamingResponse(events(), media_type="text/event-stream")


@router.delete(f"{JOBS_PATH}/{{job_id}}")
async def cancel_job(
    job_id: JobPath,
    owner: Owner,
    services: Services,
    jobs: JobsDep,
    _: Annotated[AuditEntry, audited(AuditAction.JOB_CANCEL, "job_id")],
) -> JobView:
    """Cancel a queued or running job: its work stops and its partial files are removed."""
    job = await jobs.cancel(owner, job_id)
    services.metrics.jobs_finished.labels(job.status.value).inc()
    return await _view(services, jobs, job)


@router.delete(f"{JOBS_PATH}/{{job_id}}/outputs")
async def delete_job_outputs(
    job_id: JobPath,
    owner: Owner,
    services: Services,
    jobs: JobsDep,
    _: Annotated[AuditEntry, audited(AuditAction.JOB_OUTPUTS_DELETE, "job_id")],
) -> JobView:
    """Delete an ended job's files (chapters, captions, the book, the manifest) now, before
    their links expire; the job remains, with no outputs. 409 while it is queued or running."""
    job = await jobs.delete_outputs(owner, job_id)
    return await _view(services, jobs, job)


async def _view(services: RouterServices, jobs: Jobs, job: JobRecord) -> JobView:
    chapters = await asyncio.to_thread(jobs.store.chapters, job.id, with_text=False)
    shown = [
        JobChapter(index=c.index, title=c.title, pieces=c.pieces, provider=c.provider)
        for c in chapters
    ]
    return JobView.of(job, shown, services.artifacts.links)


def _output(output: dict[str, Any], links: LinkPolicy) -> JobOutput:
    path = links.path(output["file"], output["expires_at"])
    fields = {k: v for k, v in output.items() if k != "file"}
    return JobOutput(download_path=path, **fields)


def _event(payload: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(payload)}\n\n".encode()


def body_limits(settings: JobSettings) -> dict[str, int]:
    """The request-body limit of a job submission: a whole file, and the form around it."""
    return {JOBS_PATH: settings.max_file_bytes + FORM_OVERHEAD_BYTES}
