"""The job tables as they are now, for queries; their history is in `../storage/migrations.py`.

A job row holds the request and its progress; a chapter row its text, and once its first
piece is made, the provider (and sample rate) that speaks all of it; a piece row is a
checkpoint, written only after the piece's audio is in the artifact store.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

audio_jobs = Table(
    "audio_jobs",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("owner", String(200), nullable=False),
    Column("title", Text, nullable=False),
    Column("status", String(12), nullable=False),
    Column("model", String(200), nullable=False),
    Column("voice", String(200), nullable=False),
    Column("response_format", String(8), nullable=False),
    Column("speed", Float, nullable=False),
    Column("lang_code", String(32)),
    Column("voices", Text),
    Column("on_provider_down", String(12), nullable=False),
    Column("book_format", String(8), nullable=False),
    Column("input_format", String(8), nullable=False),
    Column("captions", Boolean, nullable=False),
    # The lexicons resolved at submission: `id:version`s, space-separated, and their entries.
    Column("lexicons", Text),
    Column("lexicon_entries", Text),
    Column("chars", BigInteger, nullable=False),
    Column("pieces_total", Integer, nullable=False),
    Column("pieces_done", Integer, nullable=False),
    Column("audio_s", Float, nullable=False),
    Column("error", Text),
    Column("outputs", Text),
    Column("created_us", BigInteger, nullable=False),
    Column("updated_us", BigInteger, nullable=False),
    Column("finished_us", BigInteger),
)

audio_job_chapters = Table(
    "audio_job_chapters",
    metadata,
    Column("job_id", String(40), primary_key=True),
    Column("idx", Integer, primary_key=True),
    Column("title", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("pieces", Integer, nullable=False),
    Column("provider", String(63)),
    Column("sample_rate", Integer),
)

audio_job_pieces = Table(
    "audio_job_pieces",
    metadata,
    Column("job_id", String(40), primary_key=True),
    Column("chapter", Integer, primary_key=True),
    Column("piece", Integer, primary_key=True),
    Column("samples", BigInteger, nullable=False),
)
