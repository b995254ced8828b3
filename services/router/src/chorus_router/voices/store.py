"""The one repository of voices, consents and their audio, over SQLite or PostgreSQL.

Every query is scoped to an owner: another user's voice is simply not found (404), so ids
never leak. Quotas are charged in the same transaction as the insert, by a conditional
UPDATE that only one of two racing uploads can win, whichever replica they arrive at.
Calls block: handlers run them in worker threads.
"""

from __future__ import annotations

import secrets
import time
from typing import Any, TypeAlias

from sqlalchemy import Connection, Engine, Row, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from chorus_contracts import Conflict, QuotaExceeded, UnknownConsent, UnknownVoice
from chorus_router.storage.pages import keyset_page
from chorus_router.voices.records import ConsentRecord, NewVoice, Quotas, VoiceRecord
from chorus_router.voices.schema import consents, usage, voices

_Row: TypeAlias = Row[*tuple[Any, ...]]
_CONSENT_COLUMNS = (consents.c.id, consents.c.name, consents.c.language, consents.c.created_us)
_VOICE_COLUMNS = tuple(c for c in voices.c if c.name not in ("owner", "original", "sample"))


class VoiceStore:
    """Owner-scoped reads and writes; raises the taxonomy's 4xx errors for what users did."""

    def __init__(self, engine: Engine, quotas: Quotas) -> None:
        self._engine = engine
        self._quotas = quotas

    # Consents

    def add_consent(self, owner: str, name: str, language: str, recording: bytes) -> ConsentRecord:
        """Store a consent recording, charged to the owner's byte quota."""
        record = ConsentRecord(_new_id("cons"), name, language, time.time_ns() // 1000)
        with self._engine.begin() as conn:
            self._charge(conn, owner, 0, len(recording))
            conn.execute(
                insert(consents).values(
                    id=record.id,
                    owner=owner,
                    name=name,
                    language=language,
                    created_us=record.created_us,
                    recording=recording,
                    recording_bytes=len(recording),
                )
            )
        return record

    def consent(self, owner: str, consent_id: str) -> ConsentRecord:
        """The owner's consent, or UnknownConsent."""
        with self._engine.begin() as conn:
            return _consent(self._consent_row(conn, owner, consent_id))

    def consents(
        self, owner: str, after: str | None, limit: int
    ) -> tuple[list[ConsentRecord], bool]:
        """A page in creation order, and whether more follow it."""
        query = select(*_CONSENT_COLUMNS).where(consents.c.owner == owner)
        key = (consents.c.created_us, consents.c.id)
        with self._engine.begin() as conn:
            mark = None
            if after is not None:
                cursor = self._consent_row(conn, owner, after, param="after")
                mark = (cursor.created_us, cursor.id)
            rows, more = keyset_page(conn, query, key, mark, limit)
        return [_consent(r) for r in rows], more

    def rename_consent(self, owner: str, consent_id: str, name: str) -> ConsentRecord:
        """Give the owner's consent a new name."""
        with self._engine.begin() as conn:
            self._consent_row(conn, owner, consent_id)
            conn.execute(
                update(consents)
                .where(consents.c.id == consent_id, consents.c.owner == owner)
                .values(name=name)
            )
            return _consent(self._consent_row(conn, owner, consent_id))

    def delete_consent(self, owner: str, consent_id: str) -> None:
        """Delete the owner's consent; Conflict while voices rely on it."""
        with self._engine.begin() as conn:
            self._consent_row(conn, owner, consent_id)
            users = conn.execute(
                select(func.count()).select_from(voices).where(voices.c.consent_id == consent_id)
            ).scalar_one()
            if users:
                raise Conflict(
                    f"consent '{consent_id}' authorizes {users} voice(s); delete them first",
                    param="consent_id",
                )
            freed = conn.execute(
                delete(consents)
                .where(consents.c.id == consent_id)
                .returning(consents.c.recording_bytes)
            ).scalar_one()
            self._release(conn, owner, 0, freed)

    # Voices

    def add_voice(self, owner: str, new: NewVoice) -> VoiceRecord:
        """Store a voice under one of the owner's consents, within quota."""
        voice_id, created_us = _new_id("voice"), time.time_ns() // 1000
        stored = len(new.original) + len(new.sample.wav)
        with self._engine.begin() as conn:
            self._consent_row(conn, owner, new.consent_id, param="consent")
            self._charge(conn, owner, 1, stored)
            conn.execute(
                insert(voices).values(
                    id=voice_id,
                    owner=owner,
                    name=new.name,
                    description=new.description,
                    provider_hint=new.provider_hint,
                    consent_id=new.consent_id,
                    created_us=created_us,
                    container=new.container,
                    codec=new.codec,
                    channels=new.channels,
                    duration_s=new.sample.duration_s,
                    original=new.original,
                    original_bytes=len(new.original),
                    sample=new.sample.wav,
                    sample_rate=new.sample.sample_rate,
                    sample_bytes=len(new.sample.wav),
                    sample_sha256=new.sample.sha256,
                )
            )
            return _voice(self._voice_row(conn, owner, voice_id))

    def voice(self, owner: str, voice_id: str) -> VoiceRecord:
        """The owner's voice, or UnknownVoice."""
        with self._engine.begin() as conn:
            return _voice(self._voice_row(conn, owner, voice_id))

    def voices(self, owner: str) -> list[VoiceRecord]:
        """All of the owner's voices, oldest first."""
        query = (
            select(*_VOICE_COLUMNS)
            .where(voices.c.owner == owner)
            .order_by(voices.c.created_us, voices.c.id)
        )
        with self._engine.begin() as conn:
            return [_voice(r) for r in conn.execute(query)]

    def sample(self, owner: str, voice_id: str) -> tuple[VoiceRecord, bytes]:
        """The voice and its processed sample, the WAV that cloning providers receive."""
        query = select(*_VOICE_COLUMNS, voices.c.sample).where(
            voices.c.id == voice_id, voices.c.owner == owner
        )
        with self._engine.begin() as conn:
            row = conn.execute(query).one_or_none()
        if row is None:
            raise _unknown_voice(voice_id)
        return _voice(row), bytes(row.sample)

    def delete_voice(self, owner: str, voice_id: str) -> None:
        """Removes the row and, with it, both the original and the processed audio."""
        with self._engine.begin() as conn:
            freed = conn.execute(
                delete(voices)
                .where(voices.c.id == voice_id, voices.c.owner == owner)
                .returning(voices.c.original_bytes + voices.c.sample_bytes)
            ).scalar_one_or_none()
            if freed is None:
                raise _unknown_voice(voice_id)
            self._release(conn, owner, 1, freed)

    # Internals

    def _consent_row(
        self, conn: Connection, owner: str, consent_id: str, param: str = "consent_id"
    ) -> _Row:
        row = conn.execute(
            select(*_CONSENT_COLUMNS).where(consents.c.id == consent_id, consents.c.owner == owner)
        ).one_or_none()
        if row is None:
            raise UnknownConsent(f"No voice consent found with id '{consent_id}'.", param=param)
        return row

    def _voice_row(self, conn: Connection, owner: str, voice_id: str) -> _Row:
        row = conn.execute(
            select(*_VOICE_COLUMNS).where(voices.c.id == voice_id, voices.c.owner == owner)
        ).one_or_none()
        if row is None:
            raise _unknown_voice(voice_id)
        return row

    def _charge(self, conn: Connection, owner: str, count: int, size: int) -> None:
        """Add to the owner's usage if it stays within quota, else refuse with the numbers."""
        upsert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        conn.execute(upsert(usage).values(owner=owner, voices=0, bytes=0).on_conflict_do_nothing())
        quotas = self._quotas
        charged = conn.execute(
            update(usage)
            .where(
                usage.c.owner == owner,
                usage.c.voices + count <= quotas.max_voices,
                usage.c.bytes + size <= quotas.max_bytes,
            )
            .values(voices=usage.c.voices + count, bytes=usage.c.bytes + size)
        )
        if charged.rowcount == 1:
            return
        used = conn.execute(select(usage).where(usage.c.owner == owner)).one()
        if count and used.voices + count > quotas.max_voices:
            raise QuotaExceeded(
                f"voice quota reached: {used.voices} of {quotas.max_voices} voices; "
                "delete one to add another"
            )
        raise QuotaExceeded(
            f"storage quota reached: {used.bytes} of {quotas.max_bytes} bytes used and this "
            f"needs {size} more; delete voices or consents to free space"
        )

    @staticmethod
    def _release(conn: Connection, owner: str, count: int, size: int) -> None:
        conn.execute(
            update(usage)
            .where(usage.c.owner == owner)
            .values(voices=usage.c.voices - count, bytes=usage.c.bytes - size)
        )


def _new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def _unknown_voice(voice_id: str) -> UnknownVoice:
    return UnknownVoice(f"No voice found with id '{voice_id}'.", param="voice_id")


def _consent(row: _Row) -> ConsentRecord:
    return ConsentRecord(row.id, row.name, row.language, row.created_us)


def _voice(row: _Row) -> VoiceRecord:
    return VoiceRecord(**{c.name: getattr(row, c.name) for c in _VOICE_COLUMNS})
