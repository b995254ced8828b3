"""The one repository of pronunciation lexicons, over SQLite or PostgreSQL.

Queries are scoped to an owner (None: an admin, who sees every owner's): another user's
lexicon is simply not found (404), so ids never leak. A lexicon is never changed in place;
a new one is made, so its version (a hash of its entries) names its content for good.
Calls block: handlers run them in worker threads.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Sequence
from typing import Any, TypeAlias

from sqlalchemy import Connection, Engine, Row, delete, func, insert, select

from chorus_contracts import QuotaExceeded, UnknownLexicon
from chorus_router.lexicons.records import (
    AppliedLexicons,
    LexiconRecord,
    entries_json,
    entries_of,
    version_of,
)
from chorus_router.lexicons.schema import lexicons
from chorus_router.lexicons.settings import LexiconSettings
from chorus_router.storage.pages import keyset_page
from chorus_text.lexicon import Lexicon, LexiconEntry

_Row: TypeAlias = Row[*tuple[Any, ...]]
_SUMMARY = tuple(c for c in lexicons.c if c.name != "entries")
# Parsed lexicon sets kept for the requests that apply them: a few MB each at most.
_PARSED_KEPT = 32


class LexiconStore:
    """Owner-scoped reads and writes; raises the taxonomy's 4xx errors for what users did."""

    def __init__(self, engine: Engine, settings: LexiconSettings) -> None:
        self._engine = engine
        self.settings = settings
        self._parsed: dict[tuple[str, ...], Lexicon] = {}
        self._parsed_lock = threading.Lock()

    def add(
        self, owner: str, name: str, language: str | None, entries: Sequence[LexiconEntry]
    ) -> LexiconRecord:
        """Store a lexicon, within the owner's count of lexicons."""
        stored = entries_json(tuple(entries))
        record = LexiconRecord(
            id=f"lex_{secrets.token_hex(12)}",
            owner=owner,
            name=name,
            language=language,
            version=version_of(stored),
            entry_count=len(entries),
            created_us=time.time_ns() // 1000,
            entries=tuple(entries),
        )
        limit = self.settings.max_lexicons_per_user
        with self._engine.begin() as conn:
            # The transaction holds the write lock (SQLite) from its start: counts don't race.
            held = conn.execute(
                select(func.count()).select_from(lexicons).where(lexicons.c.owner == owner)
            ).scalar_one()
            if held >= limit:
                raise QuotaExceeded(
                    f"lexicon quota reached: {held} of {limit} lexicons; delete one to add another"
                )
            conn.execute(
                insert(lexicons).values(
                    id=record.id,
                    owner=owner,
                    name=name,
                    language=language,
                    version=record.version,
                    entry_count=record.entry_count,
                    entries=stored,
                    created_us=record.created_us,
                )
            )
        return record

    def get(self, owner: str | None, lexicon_id: str) -> LexiconRecord:
        """The lexicon with its entries, or UnknownLexicon."""
        with self._engine.begin() as conn:
            row = self._row(conn, owner, lexicon_id, lexicons.c.entries)
        return _record(row, entries_of(row.entries))

    def page(
        self, owner: str | None, after: str | None, limit: int
    ) -> tuple[list[LexiconRecord], bool]:
        """A page in creation order (without entries), and whether more follow it."""
        query = select(*_SUMMARY)
        if owner is not None:
            query = query.where(lexicons.c.owner == owner)
        key = (lexicons.c.created_us, lexicons.c.id)
        with self._engine.begin() as conn:
            mark = None
            if after is not None:
                cursor = self._row(conn, owner, after, param="after")
                mark = (cursor.created_us, cursor.id)
            rows, more = keyset_page(conn, query, key, mark, limit)
        return [_record(r) for r in rows], more

    def delete(self, owner: str | None, lexicon_id: str) -> None:
        with self._engine.begin() as conn:
            self._row(conn, owner, lexicon_id)
            conn.execute(delete(lexicons).where(lexicons.c.id == lexicon_id))

    def applied(
        self, owner: str, named: Sequence[str], defaults: Sequence[str]
    ) -> AppliedLexicons | None:
        """The lexicons a request applies: those it `named` (each must be the owner's), or
        else the key's `defaults` (one deleted since is left out, so the key still works)."""
        wanted = list(dict.fromkeys(named or defaults))
        if not wanted:
            return None
        owned = (lexicons.c.owner == owner, lexicons.c.id.in_(wanted))
        with self._engine.begin() as conn:
            found = dict(
                conn.execute(select(lexicons.c.id, lexicons.c.version).where(*owned)).all()
            )
            missing = [i for i in named if i not in found]
            if missing:
                raise UnknownLexicon(f"No lexicon found with id '{missing[0]}'.", param="lexicons")
            ids = [i for i in wanted if i in found]
            if not ids:
                return None
            versions = tuple(f"{i}:{found[i]}" for i in ids)
            lexicon = self._parsed.get(versions)
            if lexicon is None:
                query = select(lexicons.c.id, lexicons.c.entries).where(*owned)
                stored = dict(conn.execute(query).all())
                lexicon = Lexicon([e for i in ids for e in entries_of(stored[i])])
                self._remember(versions, lexicon)
        return AppliedLexicons(lexicon, versions)

    def _remember(self, versions: tuple[str, ...], lexicon: Lexicon) -> None:
        """Keep the parsed lexicon (and the indexes it builds): versions never change their
        content, so it serves every request naming them, until pushed out by newer ones."""
        with self._parsed_lock:  # requests run this on several worker threads
            self._parsed[versions] = lexicon
            while len(self._parsed) > _PARSED_KEPT:
                self._parsed.pop(next(iter(self._parsed)))

    @staticmethod
    def _row(
        conn: Connection,
        owner: str | None,
        lexicon_id: str,
        *extra: Any,
        param: str = "lexicon_id",
    ) -> _Row:
        query = select(*_SUMMARY, *extra).where(lexicons.c.id == lexicon_id)
        if owner is not None:
            query = query.where(lexicons.c.owner == owner)
        row = conn.execute(query).one_or_none()
        if row is None:
            raise UnknownLexicon(f"No lexicon found with id '{lexicon_id}'.", param=param)
        return row


def _record(row: _Row, entries: tuple[LexiconEntry, ...] = ()) -> LexiconRecord:
    return LexiconRecord(
        id=row.id,
        owner=row.owner,
        name=row.name,
        language=row.language,
        version=row.version,
        entry_count=row.entry_count,
        created_us=row.created_us,
        entries=entries,
    )
