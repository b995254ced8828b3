"""Whose voices a request may see: the authenticated principal's, by user id."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from chorus_router.identity import Principal, current_principal


def owner_of(principal: Annotated[Principal, Depends(current_principal)]) -> str:
    """The user id that owns what this request stores or reads (`local` with auth off)."""
    return principal.user_id
