"""One SQLAlchemy engine for the state replicas share (voices, consents, API keys): SQLite
by default, PostgreSQL by URL. The schema and its history live in `migrations.py`.

SQLite runs in WAL mode with a busy timeout, so several processes on one host can share the
file; every transaction takes the write lock up front (BEGIN IMMEDIATE), which makes the
read-check-write steps of quotas and migrations safe without row locks; and freed pages are
zeroed (secure_delete), so deleted voice audio does not linger in the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, SecretStr
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

SQLITE_FILE = "chorus.db"
_POSTGRES_DRIVERS = {"postgres", "postgresql", "postgresql+psycopg"}
_DRIVERS = _POSTGRES_DRIVERS | {"sqlite"}


def _supported(url: SecretStr) -> SecretStr:
    # The message never repeats the URL: it may hold a password.
    try:
        driver = make_url(url.get_secret_value()).drivername
    except ArgumentError:
        raise ValueError("not a database URL (e.g. postgresql://user:pass@host/db)") from None
    if driver not in _DRIVERS:
        raise ValueError(f"database '{driver}' is not supported; use postgresql:// or sqlite://")
    return url


DatabaseUrl = Annotated[SecretStr, AfterValidator(_supported)]
"""A settings field: PostgreSQL (psycopg 3) or SQLite, checked at start-up, kept secret."""


def database_url(configured: str | None, data_dir: Path) -> URL:
    """The configured URL with psycopg 3 as PostgreSQL's driver, else SQLite in `data_dir`."""
    if configured is None:
        return make_url(f"sqlite:///{data_dir / SQLITE_FILE}")
    url = make_url(configured)
    if url.drivername in _POSTGRES_DRIVERS:
        return url.set(drivername="postgresql+psycopg")
    return url


def open_engine(url: URL) -> Engine:
    """An engine for `url`; a SQLite file's directory is created if missing."""
    if url.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30})
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's BEGIN below, not the sqlite3 module, open transactions.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in (
        "journal_mode=WAL",
        "foreign_keys=ON",
        "secure_delete=ON",
        "synchronous=NORMAL",
        "busy_timeout=30000",
    ):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")
