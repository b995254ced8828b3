"""The stored-audio table as it is now, for queries; its history is in `../migrations.py`.

One row per stored file, a download link (`kind` link, owned by a user, with an expiry)
or a cache entry (`kind` cache, keyed by the request's identity, evicted least recently
used first). A row is written only after its whole file was published, so every row can be
served.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Float, MetaData, String, Table

metadata = MetaData()

audio_files = Table(
    "audio_files",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("kind", String(8), nullable=False),
    Column("owner", String(200), nullable=False),
    Column("cache_key", String(64)),
    Column("format", String(8), nullable=False),
    Column("provider", String(63)),
    Column("bytes", BigInteger, nullable=False),
    Column("duration_s", Float, nullable=False),
    Column("created_us", BigInteger, nullable=False),
    Column("expires_us", BigInteger),
    Column("used_us", BigInteger, nullable=False),
)
