"""The lexicon table as it is now, for queries; its history is in `../storage/migrations.py`."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Integer, MetaData, String, Table, Text

lexicons = Table(
    "lexicons",
    MetaData(),
    Column("id", String(40), primary_key=True),
    Column("owner", String(200), nullable=False),
    Column("name", String(100), nullable=False),
    Column("language", String(32)),
    # A hash of the entries: what a cached response of text they changed is keyed by.
    Column("version", String(64), nullable=False),
    Column("entry_count", Integer, nullable=False),
    Column("entries", Text, nullable=False),  # JSON, see records.py
    Column("created_us", BigInteger, nullable=False),
)
