"""Scope checks for handlers: `dependencies=[Depends(require(Scope.ADMIN))]`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from chorus_contracts import PermissionDenied
from chorus_router.identity import Principal, Scope, current_principal

# Declares Bearer auth in the OpenAPI document (and Swagger UI's Authorize button); the
# credential itself was already checked by the Authentication middleware.
_bearer = HTTPBearer(auto_error=False, description="An API key or a token (when auth is on)")


def require(scope: Scope) -> Callable[..., Awaitable[None]]:
    """A dependency that answers 403 unless the caller holds `scope`."""

    async def check(
        request: Request,
        _: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> None:
        check_scope(current_principal(request), scope)

    return check


def check_scope(principal: Principal, scope: Scope) -> None:
    """403 unless `principal` holds `scope`."""
    if not principal.has(scope):
        raise PermissionDenied(
            f"You have insufficient permissions for this operation. Missing scope: {scope}."
        )
