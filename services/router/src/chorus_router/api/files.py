"""`/api/v1/audio/files/{id}.{ext}`: a download link's file (audio, or a captioned speech
response's WebVTT/SRT captions), with Range, HEAD and DELETE.

Every way a file can be unavailable (never made, still streaming, broken off, expired,
deleted, another tenant's, a malformed or traversing name, a bad signature) is the same
404, so names reveal nothing.
"""

from __future__ import annotations

import asyncio
import email.utils
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response, StreamingResponse

from chorus_router.api.caller import owner_of
from chorus_router.api.services import RouterServices, get_services
from chorus_router.artifacts.catalog import StoredFile, unknown_file
from chorus_router.artifacts.links import FILES_PATH, media_type, parse_name
from chorus_router.artifacts.ranges import byte_range
from chorus_router.artifacts.responses import StoredAudio
from chorus_router.identity import Scope, current_principal
from chorus_router.security.scopes import check_scope, require

router = APIRouter()


async def _stored(services: Annotated[RouterServices, Depends(get_services)]) -> StoredAudio:
    return services.artifacts


_FILE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The whole file",
        "content": {"audio/mpeg": {}, "text/vtt": {}, "application/x-subrip": {}},
    },
    206: {"description": "The bytes of the requested range", "content": {"audio/mpeg": {}}},
    416: {"description": "The range starts past the end of the file"},
}


@router.api_route(
    f"{FILES_PATH}/{{name}}",
    methods=["GET", "HEAD"],
    response_class=Response,
    responses=_FILE_RESPONSES,
)
async def download(
    name: str,
    request: Request,
    stored: Annotated[StoredAudio, Depends(_stored)],
    expires: int | None = None,
    signature: str | None = None,
) -> Response:
    """The file a download link names; a `Range` of bytes is answered with 206."""
    file = await _find(request, stored, name, expires, signature)
    start, length = byte_range(request.headers.get("range"), file.bytes)
    partial = length != file.bytes
    headers = {
        "Accept-Ranges": "bytes",
        "Content-Length": str(length),
        "ETag": f'"{file.id}"',
        "Cache-Control": "private, no-transform",
        "Content-Disposition": f'inline; filename="{file.key}"',
    }
    if file.expires_us is not None:
        expires_at = file.expires_us / 1_000_000
        headers["Expires"] = email.utils.formatdate(expires_at, usegmt=True)
    if partial:
        headers["Content-Range"] = f"bytes {start}-{start + length - 1}/{file.bytes}"
    status = 206 if partial else 200
    file_type = media_type(file.format)
    if request.method == "HEAD":
        return Response(status_code=status, media_type=file_type, headers=headers)
    blocks = await stored.store.read(file, start, length)
    return StreamingResponse(blocks, status_code=status, media_type=file_type, headers=headers)


@router.delete(
    f"{FILES_PATH}/{{name}}", status_code=204, dependencies=[Depends(require(Scope.SPEECH))]
)
async def delete_file(
    name: str,
    owner: Annotated[str, Depends(owner_of)],
    stored: Annotated[StoredAudio, Depends(_stored)],
) -> Response:
    """Delete one of the caller's files now, before its link would expire."""
    parsed = parse_name(name)
    if parsed is None:
        raise unknown_file(name)
    file = await asyncio.to_thread(stored.store.catalog.delete_link, parsed[0], owner)
    await stored.store.remove([file])
    return Response(status_code=204)


async def _find(
    request: Request, stored: StoredAudio, name: str, expires: int | None, signature: str | None
) -> StoredFile:
    parsed = parse_name(name)
    if parsed is None:
        raise unknown_file(name)
    file_id, fmt = parsed
    if signature is not None:
        # Authentication let this request through on the strength of its signature alone.
        if not stored.links.verify(name, expires, signature):
            raise unknown_file(file_id)
        owner = None
    else:
        check_scope(current_principal(request), Scope.SPEECH)
        owner = current_principal(request).user_id
    file = await asyncio.to_thread(stored.store.catalog.link, file_id, owner)
    if file.format != fmt:
        raise unknown_file(file_id)
    return file
