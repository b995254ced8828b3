"""Who is calling: the one interface between authentication and everything that is per user.

With authentication off, every request is the single local user with every scope.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from fastapi import Request


class Scope(StrEnum):
    SPEECH = "speech"  # synthesis and catalogs
    VOICES = "voices"  # the caller's own custom voices
    ADMIN = "admin"  # provider management, health details, other users' quotas


@dataclass(frozen=True)
class Principal:
    user_id: str
    scopes: frozenset[Scope]
    # Lexicon ids a speech request applies when it names none (the API key's defaults).
    lexicons: tuple[str, ...] = ()

    def has(self, scope: Scope) -> bool:
        return scope in self.scopes


LOCAL_USER = Principal(user_id="local", scopes=frozenset(Scope))


def current_principal(request: Request) -> Principal:
    """The caller, as authentication left it on the request (the local user when auth is off)."""
    principal = getattr(request.state, "principal", None)
    return principal if isinstance(principal, Principal) else LOCAL_USER
