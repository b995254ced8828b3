"""What is stored, for whom, until when: the `audio_files` rows, over SQLite or PostgreSQL.

A row is written only once its file has been published, so every row names a whole file.
Link reads are scoped to an owner (another user's id is simply not found) unless a signed
URL vouches for the request. Calls block: the async layer runs them in worker threads.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Engine, Row, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from chorus_contracts import StorageQuotaExceeded, UnknownFile
from chorus_router.artifacts.schema import audio_files

Kind = Literal["link", "cache"]
_EVICT_BATCH = 1000


def now_us() -> int:
    return time.time_ns() // 1000


@dataclass(frozen=True)
class StoredFile:
    id: str
    kind: str
    owner: str
    format: str
    provider: str | None
    bytes: int
    duration_s: float
    created_us: int
    expires_us: int | None

    @property
    def key(self) -> str:
        """The object's name in the store, and the last part of its download path."""
        return f"{self.id}.{self.format}"


class FileCatalog:
    """Rows of stored files; the quota and LRU rules are queries over them."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    # Download links

    def check_link_quota(self, owner: str, max_bytes: int) -> None:
        """Refuse a new link while the owner's stored links already fill their quota."""
        with self._engine.begin() as conn:
            used = conn.execute(
                select(func.coalesce(func.sum(audio_files.c.bytes), 0)).where(
                    audio_files.c.kind == "link",
                    audio_files.c.owner == owner,
                    audio_files.c.expires_us > now_us(),
                )
            ).scalar_one()
        if used >= max_bytes:
            raise StorageQuotaExceeded(
                f"download storage quota reached: {used} of {max_bytes} bytes in use; "
                "delete files or wait for links to expire"
            )

    def link(self, file_id: str, owner: str | None) -> StoredFile:
        """A live link's file; `owner` None when a signature already vouched for the caller."""
        query = select(audio_files).where(
            audio_files.c.id == file_id,
            audio_files.c.kind == "link",
            audio_files.c.expires_us > now_us(),
        )
        if owner is not None:
            query = query.where(audio_files.c.owner == owner)
        with self._engine.begin() as conn:
            row = conn.execute(query).one_or_none()
        if row is None:
            raise unknown_file(file_id)
        return _file(row)

    def delete_link(self, file_id: str, owner: str) -> StoredFile:
        """Remove the owner's link row; the caller then deletes its object."""
        with self._engine.begin() as conn:
            row = conn.execute(
                delete(audio_files)
                .where(
                    audio_files.c.id == file_id,
                    audio_files.c.kind == "link",
                    audio_files.c.owner == owner,
                )
                .returning(*audio_files.c)
            ).one_or_none()
        if row is None:
            raise unknown_file(file_id)
        return _file(row)

    # Both kinds

    def add(self, file: StoredFile, cache_key: str | None = None) -> bool:
        """Record a published file; False when a cache entry for the key exists already."""
        stamp = now_us()
        values: dict[str, Any] = {
            **file.__dict__,
            "cache_key": cache_key,
            "used_us": stamp,
        }
        try:
            with self._engine.begin() as conn:
                conn.execute(insert(audio_files).values(**values))
        except IntegrityError:
            return False
        return True

    def expired(self, limit: int = 500) -> list[StoredFile]:
        """Remove up to `limit` rows past their expiry and return them, for their objects."""
        with self._engine.begin() as conn:
            ids = select(audio_files.c.id).where(audio_files.c.expires_us <= now_us()).limit(limit)
            rows = conn.execute(
                delete(audio_files)
                .where(audio_files.c.id.in_(ids.scalar_subquery()))
                .returning(*audio_files.c)
            ).all()
        return [_file(r) for r in rows]

    # The response cache

    def cached(self, cache_key: str) -> StoredFile | None:
        """The entry for `cache_key`, marked as just used; None on a miss."""
        with self._engine.begin() as conn:
            row = conn.execute(
                update(audio_files)
                .where(audio_files.c.cache_key == cache_key)
                .values(used_us=now_us())
                .returning(*audio_files.c)
            ).one_or_none()
        return None if row is None else _file(row)

    def cache_bytes(self) -> int:
        with self._engine.begin() as conn:
            return int(
                conn.execute(
                    select(func.coalesce(func.sum(audio_files.c.bytes), 0)).where(
                        audio_files.c.kind == "cache"
                    )
                ).scalar_one()
            )

    def evict(self, max_bytes: int) -> tuple[list[StoredFile], int]:
        """Drop least recently used cache entries until they fit in `max_bytes`; returns the
        dropped rows (for their objects) and the bytes the cache holds afterwards."""
        dropped: list[StoredFile] = []
        with self._engine.begin() as conn:
            total = int(
                conn.execute(
                    select(func.coalesce(func.sum(audio_files.c.bytes), 0)).where(
                        audio_files.c.kind == "cache"
                    )
                ).scalar_one()
            )
            if total <= max_bytes:
                return dropped, total
            oldest = conn.execute(
                select(audio_files)
                .where(audio_files.c.kind == "cache")
                .order_by(audio_files.c.used_us, audio_files.c.id)
                .limit(_EVICT_BATCH)
            )
            for row in oldest:
                if total <= max_bytes:
                    break
                dropped.append(_file(row))
                total -= row.bytes
            conn.execute(delete(audio_files).where(audio_files.c.id.in_([f.id for f in dropped])))
        return dropped, total


def unknown_file(file_id: str) -> UnknownFile:
    return UnknownFile(f"No file found with id '{file_id}'.", param="file_id")


def _file(row: Row[Any]) -> StoredFile:
    return StoredFile(
        id=row.id,
        kind=row.kind,
        owner=row.owner,
        format=row.format,
        provider=row.provider,
        bytes=row.bytes,
        duration_s=row.duration_s,
        created_us=row.created_us,
        expires_us=row.expires_us,
    )
