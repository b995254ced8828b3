"""API keys: created once, shown once, stored only as hashes in a small SQLite file.

A key is `sk-chorus-<id>-<secret>`. The id is not secret (it is listed, logged and used to
revoke); the secret is 256 random bits. Because the key has that much entropy, one SHA-256
is enough to make the stored hash useless to a thief: slow password hashes (bcrypt, argon2)
exist for guessable passwords, and would cost every request milliseconds for nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from chorus_router.identity import Scope

KEY_PREFIX = "sk-chorus-"
_KEY = re.compile(r"^sk-chorus-(?P<id>[0-9a-f]{12})-[A-Za-z0-9_-]{43}$")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
    key_id TEXT PRIMARY KEY,
    key_hash TEXT NOT NULL,
    user_id TEXT NOT NULL,
    scopes TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at REAL NOT NULL,
    revoked_at REAL
)
"""


@dataclass(frozen=True)
class ApiKey:
    """What the store knows about a key: everything except the key itself."""

    key_id: str
    user_id: str
    scopes: frozenset[Scope]
    name: str
    created_at: float
    revoked_at: float | None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


class KeyStore:
    """Hashed keys in SQLite; every call opens its own connection, so the router's threads
    and the admin CLI (another process) can use the same file at once."""

    def __init__(self, path: Path) -> None:
        self._path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute(_SCHEMA)

    def create(self, user_id: str, scopes: frozenset[Scope], name: str = "") -> tuple[str, ApiKey]:
        """A new key for `user_id`; the key string returned is stored nowhere, shown once."""
        key_id = secrets.token_hex(6)
        key = f"{KEY_PREFIX}{key_id}-{secrets.token_urlsafe(32)}"
        record = ApiKey(key_id, user_id, scopes, name, time.time(), None)
        with self._connect() as db:
            db.execute(
                "INSERT INTO api_keys VALUES (?, ?, ?, ?, ?, ?, NULL)",
                (key_id, _digest(key), user_id, _join(scopes), name, record.created_at),
            )
        return key, record

    def verify(self, key: str) -> ApiKey | None:
        """The key's record when `key` is exactly a stored key (revoked or not), else None."""
        match = _KEY.match(key)
        if match is None:
            return None
        with self._connect() as db:
            row = db.execute(
                "SELECT key_hash, " + _COLUMNS + " FROM api_keys WHERE key_id = ?",
                (match["id"],),
            ).fetchone()
        # The id is no secret, so finding it leaks nothing; the hash compare is constant-time.
        if row is None or not hmac.compare_digest(row[0], _digest(key)):
            return None
        return _record(row[1:])

    def list(self) -> list[ApiKey]:
        with self._connect() as db:
            rows = db.execute(f"SELECT {_COLUMNS} FROM api_keys ORDER BY created_at").fetchall()
        return [_record(row) for row in rows]

    def revoke(self, key_id: str) -> bool:
        """True when a key that was active is revoked now."""
        with self._connect() as db:
            cursor = db.execute(
                "UPDATE api_keys SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL",
                (time.time(), key_id),
            )
        return cursor.rowcount == 1

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self._path, timeout=5.0)
        try:
            with db:  # commits, or rolls back on error
                yield db
        finally:
            db.close()


_COLUMNS = "key_id, user_id, scopes, name, created_at, revoked_at"


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("ascii")).hexdigest()


def _join(scopes: frozenset[Scope]) -> str:
    return " ".join(sorted(scopes))


def _record(row: tuple[str, str, str, str, float, float | None]) -> ApiKey:
    key_id, user_id, scopes, name, created_at, revoked_at = row
    return ApiKey(
        key_id, user_id, frozenset(Scope(s) for s in scopes.split()), name, created_at, revoked_at
    )
