"""Schema migrations: an ordered list of SQL steps, each applied once and recorded.

Why not Alembic: a handful of tables do not need a script directory, an env.py and
revision graphs, and Alembic would not stop two replicas starting at once from both
migrating. Here the whole upgrade runs in one transaction that first takes a database-wide
lock (a PostgreSQL advisory lock; SQLite's BEGIN IMMEDIATE), so exactly one process applies
each step and the others then see it recorded. Steps are frozen history: change the schema
by appending a step. Every process that uses the database (router, key CLI) migrates first.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, text

_TABLE = "chorus_schema_migrations"
_LOCK_KEY = 0x43484F52  # "CHOR": any constant shared by every replica


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]  # `{blob}` stands for the dialect's binary column type


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "voices, voice consents and per-user usage",
        (
            """CREATE TABLE voice_consents (
                id VARCHAR(40) PRIMARY KEY,
                owner VARCHAR(200) NOT NULL,
                name VARCHAR(100) NOT NULL,
                language VARCHAR(35) NOT NULL,
                created_us BIGINT NOT NULL,
                recording {blob} NOT NULL,
                recording_bytes BIGINT NOT NULL
            )""",
            "CREATE INDEX ix_voice_consents_owner ON voice_consents (owner, created_us, id)",
            """CREATE TABLE voices (
                id VARCHAR(40) PRIMARY KEY,
                owner VARCHAR(200) NOT NULL,
                name VARCHAR(100) NOT NULL,
                description TEXT,
                provider_hint VARCHAR(63),
                consent_id VARCHAR(40) NOT NULL REFERENCES voice_consents (id),
                created_us BIGINT NOT NULL,
                container VARCHAR(16) NOT NULL,
                codec VARCHAR(32) NOT NULL,
                channels INTEGER NOT NULL,
                duration_s DOUBLE PRECISION NOT NULL,
                original {blob} NOT NULL,
                original_bytes BIGINT NOT NULL,
                sample {blob} NOT NULL,
                sample_rate INTEGER NOT NULL,
                sample_bytes BIGINT NOT NULL,
                sample_sha256 VARCHAR(64) NOT NULL
            )""",
            "CREATE INDEX ix_voices_owner ON voices (owner, created_us)",
            "CREATE INDEX ix_voices_consent ON voices (consent_id)",
            """CREATE TABLE voice_usage (
                owner VARCHAR(200) PRIMARY KEY,
                voices INTEGER NOT NULL,
                bytes BIGINT NOT NULL
            )""",
        ),
    ),
    Migration(
        2,
        "API keys",
        (
            """CREATE TABLE api_keys (
                id VARCHAR(12) PRIMARY KEY,
                user_id VARCHAR(200) NOT NULL,
                scopes VARCHAR(200) NOT NULL,
                name TEXT NOT NULL,
                key_sha256 VARCHAR(64) NOT NULL,
                created_at DOUBLE PRECISION NOT NULL,
                revoked_at DOUBLE PRECISION
            )""",
        ),
    ),
    Migration(
        3,
        "audit log",
        (
            """CREATE TABLE audit_events (
                id VARCHAR(40) PRIMARY KEY,
                at_us BIGINT NOT NULL,
                actor VARCHAR(200) NOT NULL,
                action VARCHAR(40) NOT NULL,
                resource_id VARCHAR(64),
                outcome VARCHAR(16) NOT NULL,
                status INTEGER NOT NULL,
                request_id VARCHAR(64) NOT NULL,
                trace_id VARCHAR(32)
            )""",
            "CREATE INDEX ix_audit_events_at ON audit_events (at_us)",
            "CREATE INDEX ix_audit_events_actor ON audit_events (actor, id)",
            "CREATE INDEX ix_audit_events_action ON audit_events (action, id)",
        ),
    ),
    Migration(
        4,
        "stored audio: download links and the response cache",
        (
            """CREATE TABLE audio_files (
                id VARCHAR(40) PRIMARY KEY,
                kind VARCHAR(8) NOT NULL,
                owner VARCHAR(200) NOT NULL,
                cache_key VARCHAR(64),
                format VARCHAR(8) NOT NULL,
                provider VARCHAR(63),
                bytes BIGINT NOT NULL,
                duration_s DOUBLE PRECISION NOT NULL,
                created_us BIGINT NOT NULL,
                expires_us BIGINT,
                used_us BIGINT NOT NULL
            )""",
            "CREATE INDEX ix_audio_files_owner ON audio_files (kind, owner)",
            "CREATE UNIQUE INDEX ix_audio_files_cache_key ON audio_files (cache_key)",
            "CREATE INDEX ix_audio_files_expires ON audio_files (expires_us)",
            "CREATE INDEX ix_audio_files_used ON audio_files (kind, used_us)",
        ),
    ),
    Migration(
        5,
        "long-form jobs: jobs, their chapters and checkpointed pieces",
        (
            """CREATE TABLE audio_jobs (
                id VARCHAR(40) PRIMARY KEY,
                owner VARCHAR(200) NOT NULL,
                title TEXT NOT NULL,
                status VARCHAR(12) NOT NULL,
                model VARCHAR(200) NOT NULL,
                voice VARCHAR(200) NOT NULL,
                response_format VARCHAR(8) NOT NULL,
                speed DOUBLE PRECISION NOT NULL,
                lang_code VARCHAR(32),
                pieces_total INTEGER NOT NULL,
                pieces_done INTEGER NOT NULL,
                audio_s DOUBLE PRECISION NOT NULL,
                error TEXT,
                outputs TEXT,
                created_us BIGINT NOT NULL,
                updated_us BIGINT NOT NULL,
                finished_us BIGINT
            )""",
            "CREATE INDEX ix_audio_jobs_owner ON audio_jobs (owner, created_us, id)",
            """CREATE TABLE audio_job_chapters (
                job_id VARCHAR(40) NOT NULL REFERENCES audio_jobs (id),
                idx INTEGER NOT NULL,
                title TEXT NOT NULL,
                text TEXT NOT NULL,
                pieces INTEGER NOT NULL,
                provider VARCHAR(63),
                sample_rate INTEGER,
                PRIMARY KEY (job_id, idx)
            )""",
            """CREATE TABLE audio_job_pieces (
                job_id VARCHAR(40) NOT NULL REFERENCES audio_jobs (id),
                chapter INTEGER NOT NULL,
                piece INTEGER NOT NULL,
                samples BIGINT NOT NULL,
                PRIMARY KEY (job_id, chapter, piece)
            )""",
        ),
    ),
    Migration(
        6,
        "long-form jobs: scripts' voices, provider-down option, characters, jobs by state",
        (
            "ALTER TABLE audio_jobs ADD COLUMN voices TEXT",
            "ALTER TABLE audio_jobs ADD COLUMN on_provider_down VARCHAR(12) NOT NULL "
            "DEFAULT 'fallback'",
            # Characters each job speaks: the per-user daily budget sums them.
            "ALTER TABLE audio_jobs ADD COLUMN chars BIGINT NOT NULL DEFAULT 0",
            # The jobs' gauges count active jobs by state at every scrape.
            "CREATE INDEX ix_audio_jobs_status ON audio_jobs (status, updated_us)",
        ),
    ),
    Migration(
        7,
        "pronunciation lexicons, and the lexicons an API key applies by default",
        (
            """CREATE TABLE lexicons (
                id VARCHAR(40) PRIMARY KEY,
                owner VARCHAR(200) NOT NULL,
                name VARCHAR(100) NOT NULL,
                language VARCHAR(32),
                version VARCHAR(64) NOT NULL,
                entry_count INTEGER NOT NULL,
                entries TEXT NOT NULL,
                created_us BIGINT NOT NULL
            )""",
            "CREATE INDEX ix_lexicons_owner ON lexicons (owner, created_us, id)",
            # Lexicon ids, space-separated, applied when a request names none.
            "ALTER TABLE api_keys ADD COLUMN lexicons TEXT NOT NULL DEFAULT ''",
        ),
    ),
    Migration(
        8,
        "long-form jobs: the whole work as M4B or MP3, SSML documents, captions on or off",
        (
            "ALTER TABLE audio_jobs ADD COLUMN book_format VARCHAR(8) NOT NULL DEFAULT 'm4b'",
            "ALTER TABLE audio_jobs ADD COLUMN input_format VARCHAR(8) NOT NULL DEFAULT 'text'",
            "ALTER TABLE audio_jobs ADD COLUMN captions BOOLEAN NOT NULL DEFAULT TRUE",
        ),
    ),
    Migration(
        9,
        "long-form jobs: the pronunciation lexicons resolved at submission, kept with the job",
        (
            # `id:version`s, space-separated, in the order named; NULL for none.
            "ALTER TABLE audio_jobs ADD COLUMN lexicons TEXT",
            # Their entries as resolved, so edits and deletions later change no piece.
            "ALTER TABLE audio_jobs ADD COLUMN lexicon_entries TEXT",
        ),
    ),
)


def migrate(engine: Engine) -> list[int]:
    """Bring the schema up to date; returns the versions this call applied."""
    with engine.begin() as conn:
        _lock(conn)
        conn.execute(
            text(
                f"CREATE TABLE IF NOT EXISTS {_TABLE} ("
                "version INTEGER PRIMARY KEY, name VARCHAR(200) NOT NULL, "
                "applied_at BIGINT NOT NULL)"
            )
        )
        done = set(conn.execute(text(f"SELECT version FROM {_TABLE}")).scalars())
        blob = "BYTEA" if conn.dialect.name == "postgresql" else "BLOB"
        applied = []
        for migration in MIGRATIONS:
            if migration.version in done:
                continue
            for statement in migration.statements:
                conn.execute(text(statement.format(blob=blob)))
            conn.execute(
                text(f"INSERT INTO {_TABLE} (version, name, applied_at) VALUES (:v, :n, :t)"),
                {"v": migration.version, "n": migration.name, "t": int(time.time())},
            )
            applied.append(migration.version)
        return applied


def _lock(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
