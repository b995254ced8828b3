"""API keys: created once, shown once, stored only as hashes in the router's shared database.

A key is `sk-chorus-<id>-<secret>`. The id is not secret (it is listed, logged and used to
revoke); the secret is 256 random bits. Because the key has that much entropy, one SHA-256
is enough to make the stored hash useless to a thief: slow password hashes (bcrypt, argon2)
exist for guessable passwords, and would cost every request milliseconds for nothing.
Every verification reads the database, so a key revoked on one replica (or by the CLI) is
refused by all of them from the next request on.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any, TypeAlias

from sqlalchemy import (
    Column,
    Engine,
    Float,
    MetaData,
    Row,
    String,
    Table,
    Text,
    insert,
    select,
    update,
)

from chorus_router.identity import Scope

KEY_PREFIX = "sk-chorus-"
_KEY = re.compile(r"^sk-chorus-(?P<id>[0-9a-f]{12})-[A-Za-z0-9_-]{43}$")

# The table as it is now, for queries; its history is in chorus_router/migrations.py.
api_keys = Table(
    "api_keys",
    MetaData(),
    Column("id", String(12), primary_key=True),
    Column("user_id", String(200), nullable=False),
    Column("scopes", String(200), nullable=False),
    Column("name", Text, nullable=False),
    Column("key_sha256", String(64), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("revoked_at", Float),
    Column("lexicons", Text, nullable=False),
)
_Row: TypeAlias = Row[*tuple[Any, ...]]
_COLUMNS = (
    api_keys.c.id,
    api_keys.c.user_id,
    api_keys.c.scopes,
    api_keys.c.name,
    api_keys.c.created_at,
    api_keys.c.revoked_at,
    api_keys.c.lexicons,
)


@dataclass(frozen=True)
class ApiKey:
    """What the store knows about a key: everything except the key itself."""

    key_id: str
    user_id: str
    scopes: frozenset[Scope]
    name: str
    created_at: float
    revoked_at: float | None
    # Lexicon ids applied to its speech requests that name none.
    lexicons: tuple[str, ...] = ()

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


class KeyStore:
    """Hashed keys in the migrated database behind `engine`. Calls block: the router runs
    them in worker threads."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def create(
        self,
        user_id: str,
        scopes: frozenset[Scope],
        name: str = "",
        lexicons: tuple[str, ...] = (),
    ) -> tuple[str, ApiKey]:
        """A new key for `user_id`; the key string returned is stored nowhere, shown once."""
        key_id = secrets.token_hex(6)
        key = f"{KEY_PREFIX}{key_id}-{secrets.token_urlsafe(32)}"
        record = ApiKey(key_id, user_id, scopes, name, time.time(), None, lexicons)
        with self._engine.begin() as conn:
            conn.execute(
                insert(api_keys).values(
                    id=key_id,
                    user_id=user_id,
                    scopes=" ".join(sorted(scopes)),
                    name=name,
                    key_sha256=_digest(key),
                    created_at=record.created_at,
                    lexicons=" ".join(lexicons),
                )
            )
        return key, record

    def verify(self, key: str) -> ApiKey | None:
        """The key's record when `key` is exactly a stored key (revoked or not), else None."""
        match = _KEY.match(key)
        if match is None:
            return None
        query = select(api_keys.c.key_sha256, *_COLUMNS).where(api_keys.c.id == match["id"])
        with self._engine.begin() as conn:
            row = conn.execute(query).first()
        # The id is no secret, so finding it leaks nothing; the hash compare is constant-time.
        if row is None or not hmac.compare_digest(row.key_sha256, _digest(key)):
            return None
        return _record(row)

    def list(self) -> list[ApiKey]:
        query = select(*_COLUMNS).order_by(api_keys.c.created_at, api_keys.c.id)
        with self._engine.begin() as conn:
            return [_record(row) for row in conn.execute(query)]

    def revoke(self, key_id: str) -> bool:
        """True when a key that was active is revoked now."""
        statement = (
            update(api_keys)
            .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
            .values(revoked_at=time.time())
        )
        with self._engine.begin() as conn:
            return conn.execute(statement).rowcount == 1


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("ascii")).hexdigest()


def _record(row: _Row) -> ApiKey:
    return ApiKey(
        row.id,
        row.user_id,
        frozenset(Scope(s) for s in row.scopes.split()),
        row.name,
        row.created_at,
        row.revoked_at,
        tuple(row.lexicons.split()),
    )
