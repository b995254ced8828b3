"""`/api/v1/audio/lexicons`: pronunciation lexicons, made from a W3C PLS file or JSON
entries, listed, read and deleted. Every route is scoped to the caller (an admin sees
every user's): another user's lexicon is a 404, exactly like one that does not exist."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from chorus_contracts import InvalidRequest, PayloadTooLarge
from chorus_contracts.responses import describe_model_validation
from chorus_router.api.caller import owner_of
from chorus_router.api.services import RouterServices, get_services
from chorus_router.audit import AuditAction, AuditEntry, audited
from chorus_router.identity import Principal, Scope, current_principal
from chorus_router.lexicons.records import AppliedLexicons, LexiconRecord
from chorus_router.lexicons.settings import LexiconSettings
from chorus_router.security import require
from chorus_router.voices.uploads import FORM_OVERHEAD_BYTES, read_upload
from chorus_text.lexicon import (
    MAX_ALIAS_CHARS,
    MAX_GRAPHEME_CHARS,
    MAX_PHONEME_CHARS,
    LexiconEntry,
    check_text,
    parse_pls,
)

LEXICONS_PATH = "/api/v1/audio/lexicons"
router = APIRouter(dependencies=[Depends(require(Scope.SPEECH))])
Services = Annotated[RouterServices, Depends(get_services)]
LexiconPath = Annotated[str, Path(min_length=1, max_length=40)]


def _plain_text(value: str) -> str:
    return check_text("the text", value)


PlainText = AfterValidator(_plain_text)
Language = Annotated[str, Field(min_length=1, max_length=32), PlainText]
Grapheme = Annotated[str, Field(min_length=1, max_length=MAX_GRAPHEME_CHARS), PlainText]
Phoneme = Annotated[str, Field(min_length=1, max_length=MAX_PHONEME_CHARS), PlainText]
Alias = Annotated[str, Field(min_length=1, max_length=MAX_ALIAS_CHARS), PlainText]


class EntryBody(BaseModel):
    """One entry: the written word(s), said as `phoneme` (IPA) or as `alias`, or both."""

    model_config = ConfigDict(extra="forbid")

    grapheme: Grapheme
    phoneme: Phoneme | None = None
    alias: Alias | None = None
    lang: Language | None = None

    @model_validator(mode="after")
    def _says_something(self) -> EntryBody:
        if self.phoneme is None and self.alias is None:
            raise ValueError("an entry needs a phoneme (IPA) or an alias")
        return self


class LexiconBody(BaseModel):
    """A lexicon as JSON; `lang` is the default of entries that name none."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=100), PlainText] = "lexicon"
    lang: Language | None = None
    entries: list[EntryBody] = Field(min_length=1)


class LexiconView(BaseModel):
    id: str
    object: Literal["audio.lexicon"] = "audio.lexicon"
    name: str
    lang: str | None
    # Changes whenever the entries do: cached speech is keyed by it.
    version: str
    entry_count: int
    created_at: int
    owner: str
    # Only when one lexicon is read.
    entries: list[EntryBody] | None = None

    @classmethod
    def of(cls, record: LexiconRecord, *, with_entries: bool = False) -> LexiconView:
        entries = [
            EntryBody(grapheme=e.grapheme, phoneme=e.phoneme, alias=e.alias, lang=e.language)
            for e in record.entries
        ]
        return cls(
            id=record.id,
            name=record.name,
            lang=record.language,
            version=record.version,
            entry_count=record.entry_count,
            created_at=record.created_at,
            owner=record.owner,
            entries=entries if with_entries else None,
        )


class LexiconList(BaseModel):
    object: Literal["list"] = "list"
    data: list[LexiconView]
    first_id: str | None
    last_id: str | None
    has_more: bool


class LexiconDeleted(BaseModel):
    id: str
    object: Literal["audio.lexicon.deleted"] = "audio.lexicon.deleted"
    deleted: bool = True


async def _visible_to(request: Request) -> str | None:
    """The owner whose lexicons the caller manages; None (all) for an admin."""
    principal = current_principal(request)
    return None if principal.has(Scope.ADMIN) else principal.user_id


Visible = Annotated[str | None, Depends(_visible_to)]


def _creation_body() -> dict[str, Any]:
    """OpenAPI for the two bodies the handler reads itself: JSON, or a form with a PLS file."""
    form = {
        "type": "object",
        "properties": {
            "file": {"type": "string", "format": "binary"},
            "name": {"type": "string"},
        },
        "required": ["file"],
    }
    content = {
        "application/json": {"schema": LexiconBody.model_json_schema()},
        "multipart/form-data": {"schema": form},
    }
    return {"requestBody": {"required": True, "content": content}}


@router.post(LEXICONS_PATH, openapi_extra=_creation_body())
async def create_lexicon(
    request: Request,
    owner: Annotated[str, Depends(owner_of)],
    services: Services,
    audit: Annotated[AuditEntry, audited(AuditAction.LEXICON_CREATE)],
) -> LexiconView:
    """Make a lexicon from JSON entries, or from a W3C PLS file (multipart, field `file`,
    with an optional `name`). A bad PLS file is a 400 naming its line and column."""
    store = services.lexicons
    settings = store.settings
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await read_upload(request, frozenset({"file"}), settings.max_upload_bytes)
        data = form.files.get("file")
        if data is None:
            raise InvalidRequest("Missing required parameter: 'file' (a PLS file).", param="file")
        name = (form.text("name") or "").strip() or "lexicon"
        if len(name) > 100:
            raise InvalidRequest("name is longer than 100 characters", param="name")
        try:
            check_text("name", name)
        except ValueError as exc:
            raise InvalidRequest(str(exc), param="name") from None
        entries = parse_pls(data, settings.max_entries_per_lexicon)
        language = entries[0].language
    else:
        body = _json_body(await request.body(), settings)
        name, language = body.name, body.lang
        entries = _entries(body, settings)
    record = await asyncio.to_thread(store.add, owner, name, language, entries)
    audit.resource_id = record.id
    return LexiconView.of(record)


def _json_body(raw: bytes, settings: LexiconSettings) -> LexiconBody:
    if len(raw) > settings.max_upload_bytes:
        raise PayloadTooLarge(
            f"the lexicon is {len(raw)} bytes; the maximum is {settings.max_upload_bytes}"
        )
    try:
        data = json.loads(raw)
    except ValueError:
        raise InvalidRequest("the body is not valid JSON") from None
    try:
        return LexiconBody.model_validate(data)
    except ValidationError as exc:
        raise describe_model_validation(exc) from None


def _entries(body: LexiconBody, settings: LexiconSettings) -> list[LexiconEntry]:
    limit = settings.max_entries_per_lexicon
    if len(body.entries) > limit:
        raise InvalidRequest(
            f"the lexicon has {len(body.entries)} entries; the maximum is {limit}",
            param="entries",
        )
    entries = []
    for index, e in enumerate(body.entries):
        try:
            entries.append(LexiconEntry(e.grapheme, e.phoneme, e.alias, e.lang or body.lang))
        except ValueError as exc:  # blank once trimmed, say
            raise InvalidRequest(f"entries[{index}]: {exc}", param=f"entries.{index}") from None
    return entries


@router.get(LEXICONS_PATH)
async def list_lexicons(
    owner: Visible,
    services: Services,
    after: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> LexiconList:
    """The caller's lexicons, oldest first, without their entries; pass a page's `last_id`
    as `after` for the next."""
    records, has_more = await asyncio.to_thread(services.lexicons.page, owner, after, limit)
    data = [LexiconView.of(r) for r in records]
    return LexiconList(
        data=data,
        first_id=data[0].id if data else None,
        last_id=data[-1].id if data else None,
        has_more=has_more,
    )


@router.get(f"{LEXICONS_PATH}/{{lexicon_id}}")
async def get_lexicon(lexicon_id: LexiconPath, owner: Visible, services: Services) -> LexiconView:
    """The lexicon with its entries."""
    record = await asyncio.to_thread(services.lexicons.get, owner, lexicon_id)
    return LexiconView.of(record, with_entries=True)


@router.delete(f"{LEXICONS_PATH}/{{lexicon_id}}")
async def delete_lexicon(
    lexicon_id: LexiconPath,
    owner: Visible,
    services: Services,
    _: Annotated[AuditEntry, audited(AuditAction.LEXICON_DELETE, "lexicon_id")],
) -> LexiconDeleted:
    """Delete the lexicon; requests that name it are refused from then on."""
    await asyncio.to_thread(services.lexicons.delete, owner, lexicon_id)
    return LexiconDeleted(id=lexicon_id)


async def applied_lexicons(
    services: RouterServices, caller: Principal, named: list[str] | None
) -> AppliedLexicons | None:
    """The lexicons a speech request applies: those it names, else its key's defaults."""
    limit = services.lexicons.settings.max_lexicons_per_request
    if named is not None and len(named) > limit:
        raise InvalidRequest(
            f"the request names {len(named)} lexicons; the maximum is {limit}", param="lexicons"
        )
    if named is None and not caller.lexicons:
        return None
    return await asyncio.to_thread(
        services.lexicons.applied,
        caller.user_id,
        named or (),
        caller.lexicons if named is None else (),
    )


def body_limits(settings: LexiconSettings) -> dict[str, int]:
    """The request-body limit of a lexicon upload: the file, and the form around it."""
    return {LEXICONS_PATH: settings.max_upload_bytes + FORM_OVERHEAD_BYTES}
