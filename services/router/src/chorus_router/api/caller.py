"""Who a request acts for: the principal, and the user id that owns what it stores or reads."""

from __future__ import annotations

from fastapi import Request

from chorus_router.identity import Principal, current_principal


async def owner_of(request: Request) -> str:
    """The user id that owns what this request stores or reads (`local` with auth off)."""
    return current_principal(request).user_id


async def caller_of(request: Request) -> Principal:
    """The authenticated principal: its user id, scopes and API key's default lexicons."""
    return current_principal(request)
