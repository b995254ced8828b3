"""The voice tables as they are now, for queries; their history is in `../migrations.py`."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

consents = Table(
    "voice_consents",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("owner", String(200), nullable=False),
    Column("name", String(100), nullable=False),
    Column("language", String(35), nullable=False),
    Column("created_us", BigInteger, nullable=False),
    Column("recording", LargeBinary, nullable=False),
    Column("recording_bytes", BigInteger, nullable=False),
)

voices = Table(
    "voices",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("owner", String(200), nullable=False),
    Column("name", String(100), nullable=False),
    Column("description", Text),
    Column("provider_hint", String(63)),
    Column("consent_id", String(40), nullable=False),
    Column("created_us", BigInteger, nullable=False),
    Column("container", String(16), nullable=False),
    Column("codec", String(32), nullable=False),
    Column("channels", Integer, nullable=False),
    Column("duration_s", Float, nullable=False),
    Column("original", LargeBinary, nullable=False),
    Column("original_bytes", BigInteger, nullable=False),
    Column("sample", LargeBinary, nullable=False),
    Column("sample_rate", Integer, nullable=False),
    Column("sample_bytes", BigInteger, nullable=False),
    Column("sample_sha256", String(64), nullable=False),
)

usage = Table(
    "voice_usage",
    metadata,
    Column("owner", String(200), primary_key=True),
    Column("voices", Integer, nullable=False),
    Column("bytes", BigInteger, nullable=False),
)
