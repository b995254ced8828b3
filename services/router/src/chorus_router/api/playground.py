"""The playground: a static web app at `/playground` (and `/`) that uses only the public API.

Its files live in the package (`chorus_router/playground/`) and are served as they are, with
no build step; the page's Content-Security-Policy allows only its own origin.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, RedirectResponse

from chorus_contracts import UnknownFile
from chorus_router.security.headers import PAGE_HEADERS

router = APIRouter(include_in_schema=False)

STATIC = Path(__file__).resolve().parents[1] / "playground"
_MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
}


def _served(name: str) -> FileResponse:
    path = STATIC / name
    media_type = _MEDIA_TYPES.get(path.suffix)
    # Only the app's own files by name: a path parameter never holds a slash.
    if media_type is None or not path.is_file():
        raise UnknownFile(f"No playground file '{name}'.")
    # Revalidated each load, so a router upgrade never runs an old script with a new page.
    headers = {**PAGE_HEADERS, "Cache-Control": "no-cache"}
    return FileResponse(path, media_type=media_type, headers=headers)


@router.get("/")
async def root() -> RedirectResponse:
    return RedirectResponse("/playground")


@router.get("/playground")
async def page() -> FileResponse:
    return _served("index.html")


@router.get("/playground/{name}")
async def asset(name: str) -> FileResponse:
    return _served(name)
