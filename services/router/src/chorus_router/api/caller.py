"""Whose voices a request may see: the authenticated principal's, by user id."""

from __future__ import annotations

from fastapi import Request

from chorus_router.identity import current_principal


async def owner_of(request: Request) -> str:
    """The user id that owns what this request stores or reads (`local` with auth off)."""
    return current_principal(request).user_id
