"""A real, throwaway PostgreSQL server for tests.

With a reachable Docker engine it is testcontainers' PostgresContainer; otherwise Debian's
PostgreSQL binaries (`make test` installs the `postgresql` package) run a cluster made by
initdb in a temporary directory, on a free port, as an unprivileged user when the suite runs
as root (PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
from psycopg import sql

from support.docker_engine import docker_answers
from support.processes import free_port

_USER = "chorus"
_IMAGE = "postgres:16-alpine"
_BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))


class PostgresServer:
    """Where the server is; `create_database` gives each test a database of its own."""

    def __init__(self, host: str, port: int, password: str | None) -> None:
        self._host, self._port, self._password = host, port, password

    def url(self, database: str = "postgres") -> str:
        auth = f"{_USER}:{self._password}" if self._password else _USER
        return f"postgresql://{auth}@{self._host}:{self._port}/{database}"

    def create_database(self, name: str) -> str:
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)


@contextlib.contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """Start a server, yield it, and remove it with all its data afterwards."""
    if docker_answers():
        with _container() as server:
            yield server
    else:
        with _local_cluster() as server:
            yield server


@contextlib.contextmanager
def _container() -> Iterator[PostgresServer]:
    from testcontainers.postgres import PostgresContainer

    with PostgresContainer(_IMAGE, username=_USER, password=_USER, dbname=_USER) as box:
        yield PostgresServer(box.get_container_host_ip(), int(box.get_exposed_port(5432)), _USER)


@contextlib.contextmanager
def _local_cluster() -> Iterator[PostgresServer]:
    if not _BIN_DIRS:
        raise RuntimeError(
            "PostgreSQL is not installed: run `make test` (it installs Debian's postgresql "
            "package) or start a Docker engine for testcontainers"
        )
    bin_dir = _BIN_DIRS[-1]
    run_as = _unprivileged_user()
    root = Path(tempfile.mkdtemp(prefix="chorus-pg-"))
    data, log = root / "data", root / "server.log"
    if run_as is not None:
        shutil.chown(root, run_as.pw_uid, run_as.pw_gid)
    port = free_port()
    try:
        _run(run_as, bin_dir / "initdb", "-D", data, "-U", _USER, "--auth=trust", "--no-sync")
        options = f"-F -p {port} -k {root} -c listen_addresses=127.0.0.1"
        _run(run_as, bin_dir / "pg_ctl", "-D", data, "-l", log, "-o", options, "-w", "start")
        try:
            yield PostgresServer("127.0.0.1", port, None)
        finally:
            _run(run_as, bin_dir / "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop")
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _unprivileged_user() -> pwd.struct_passwd | None:
    """None when not root; else the `postgres` user, created if the package did not."""
    if os.geteuid() != 0:
        return None
    with contextlib.suppress(KeyError):
        return pwd.getpwnam("postgres")
    subprocess.run(["useradd", "--system", "--no-create-home", "postgres"], check=True)
    return pwd.getpwnam("postgres")


def _run(user: pwd.struct_passwd | None, *command: object) -> None:
    args = [str(part) for part in command]
    if user is not None:
        args = ["runuser", "-u", user.pw_name, "--", *args]
    done = subprocess.run(args, capture_output=True, text=True, check=False, cwd="/")
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
